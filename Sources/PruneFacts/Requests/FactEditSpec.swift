import PruneFormats
import PruneKit

/// A fact line of a manifest, parsed: the method, its requests and the line's hyperparameter
/// overrides (still as JSON: they are interpreted against the run's hyperparameters).
public struct FactEditSpec: Sendable, Equatable {
    public var method: FactMethod
    public var requests: [FactRequest]
    /// The line's `"hparams"` object, if any.
    public var hparams: JSONNode?
    /// Manifest path and 1-based line, for messages.
    public var manifest: String
    public var line: Int

    public init(method: FactMethod, requests: [FactRequest], hparams: JSONNode?, manifest: String, line: Int) {
        self.method = method
        self.requests = requests
        self.hparams = hparams
        self.manifest = manifest
        self.line = line
    }
}
