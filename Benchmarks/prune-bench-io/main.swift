import PruneKit
print("prune-bench-io: not written yet")
