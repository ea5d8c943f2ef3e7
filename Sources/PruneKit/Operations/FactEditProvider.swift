import PruneFormats

/// Computes the deltas of a manifest's fact lines (`rome`, `memit`, `alphaedit`) from the model.
/// PruneKit knows only this interface; the fact engine (PruneFacts) implements it and the CLI hands
/// it to `Apply` (`ApplyRequest.facts`), so that dependencies point one way.
public protocol FactEditProvider: Sendable {
    func compute(_ job: FactJob) throws -> FactOutcome
    /// The files the provider reads besides the model (hyperparameters, texts), with how messages
    /// describe them: inputs of the run that no output may replace (`RunPaths`).
    var inputFiles: [(path: String, what: String)] { get }
}

extension FactEditProvider {
    public var inputFiles: [(path: String, what: String)] { [] }
}

/// What the fact engine is given: the model file, the manifest and how the run restrains.
public struct FactJob: Sendable {
    /// The model path as given to prune-apply (a file or Hugging Face folder; never stdin).
    public var modelPath: String
    public var manifest: EditManifest
    /// The model's tensors, for placing deltas (`EditManifest.placeLowRank`).
    public var model: ModelDescription
    /// The sidecar being continued, if any (its chain is already in the model).
    public var continued: Sidecar?
    /// Its path (`--continue`), from which the engine rebuilds the base W₀ (`Revert`).
    public var continuedPath: String? = nil
    public var restraint: RestraintConfiguration
    public var threads: Int
}

/// What the fact engine computed: for each fact edit (by index in `manifest.edits`), its deltas in
/// stored orientation and its sidecar record (UTF-8 JSON), and one summary line per fact.
public struct FactOutcome: Sendable {
    public var edits: [Int: ResolvedEdit]
    public var records: [Int: [UInt8]]
    public var summaries: [String]
    /// Warnings to show (statistics missing, ignored hyperparameters, …); also in the records.
    public var warnings: [String]

    public init(edits: [Int: ResolvedEdit], records: [Int: [UInt8]], summaries: [String], warnings: [String]) {
        self.edits = edits
        self.records = records
        self.summaries = summaries
        self.warnings = warnings
    }
}
