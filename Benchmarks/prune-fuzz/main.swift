import PruneKit
print("prune-fuzz")
