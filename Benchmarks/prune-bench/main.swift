import PruneKit
print("prune-bench: no benchmarks yet")
