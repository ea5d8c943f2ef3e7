import ArgumentParser
import PruneRuntime

/// `--activations f32|q8` on the commands that run the model.
extension ActivationPrecision: ExpressibleByArgument {}
