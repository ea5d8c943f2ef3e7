import Foundation
import PruneFormats
import PruneKit
import PruneRuntime
import PruneTokenizers

/// The fact engine prune-apply runs for `rome`, `memit` and `alphaedit` lines (`FactEditProvider`):
/// loads the model with the runtime, computes each fact line's delta in manifest order on the model
/// as edited so far (schedule `end`: the raw deltas; `each`: restrained after every edit), and
/// returns the deltas placed on the file's tensors with a sidecar record per line.
public struct FactEngine: FactEditProvider {
    /// `--hparams FILE`, already read.
    public var hparamsFile: HyperparameterSource?
    /// `--stats-text FILE`.
    public var statsText: String?
    public var cache: StatisticsCache
    /// Called with progress lines (a terminal display); never required.
    public var progress: (@Sendable (String) -> Void)?
    /// Tests: called with the session after each fact line is computed and added to the model.
    var afterLine: (@Sendable (FactSession) -> Void)?
    /// Called after each optimisation step of a request's target (a terminal display); never required.
    public var steps: (@Sendable (FactStep) -> Void)?

    public init(hparamsFile: HyperparameterSource? = nil, statsText: String? = nil,
                cache: StatisticsCache = .fromEnvironment(), progress: (@Sendable (String) -> Void)? = nil) {
        self.hparamsFile = hparamsFile
        self.statsText = statsText
        self.cache = cache
        self.progress = progress
    }

    /// `--hparams` and `--stats-text`: inputs of the run.
    public var inputFiles: [(path: String, what: String)] {
        (hparamsFile.map { [($0.name, "the --hparams file")] } ?? []) + (statsText.map { [($0, "the --stats-text file")] } ?? [])
    }

    /// One optimisation step of a fact edit: which method, request (1-based, of `requests` in the
    /// line), layer, step (1-based, of at most `steps`) and the loss after it.
    public struct FactStep: Sendable {
        public var method: String
        public var request: Int
        public var requests: Int
        public var layer: Int
        public var step: Int
        public var steps: Int
        public var loss: Double
    }

    public func compute(_ job: FactJob) throws -> FactOutcome {
        var session = try FactSession(engine: self, job: job)
        return try session.run()
    }
}
