import PruneKit
print("prune-bench-restraint: not written yet")
