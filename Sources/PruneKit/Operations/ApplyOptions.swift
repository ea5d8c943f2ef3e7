import Foundation
import PruneFormats

/// How prune-apply restrains and writes.
public struct ApplyOptions: Sendable {
    /// F applied to singular values ≥ σ_max(W₀): log (base α, default e), linear or none.
    public var restraint: RestraintFunction = .log(base: M_E)
    public var schedule: RestraintSchedule = .end
    /// Compute κ(W₀), κ(W₀+ΔW), κ(W₀+ΔW̄) per tensor (slow: full SVDs).
    public var kappa = false
    /// Compression of the model output (zstd level, workers, or plain).
    public var output: OutputOptions = .default
    /// Threads for decoding, encoding and materialising deltas; 0 = one per core, more than the
    /// cores are capped at the cores (`ThreadCount`). Results never depend on it.
    public var threads = 0
    /// Write edited tensors even when they hold NaN or infinities (otherwise an error).
    public var allowNonFinite = false
    /// How the manifest may refer to files (outside its folder or not).
    public var manifest = ManifestOptions()

    public init() {}

    var resolvedThreads: Int { ThreadCount.resolved(threads) }

    public var configuration: RestraintConfiguration {
        RestraintConfiguration(function: restraint, schedule: schedule, reportCount: Int.max)
    }

    /// The parameters as the sidecar records them.
    var parameters: Sidecar.Parameters {
        let (name, alpha): (String, Double)
        switch restraint {
        case .log(let base): (name, alpha) = ("log", base)
        case .linear: (name, alpha) = ("linear", M_E)
        case .none: (name, alpha) = ("none", M_E)
        }
        return Sidecar.Parameters(restraint: name, alpha: alpha, schedule: schedule.rawValue, kappa: kappa)
    }

    /// The options a sidecar recorded (replay and continuation defaults).
    init(parameters p: Sidecar.Parameters) throws {
        self.init()
        switch p.restraint {
        case "log": restraint = .log(base: p.alpha)
        case "linear": restraint = .linear
        case "none": restraint = .none
        default: throw RestraintError.unknownFunction(p.restraint)
        }
        schedule = try RestraintSchedule(name: p.schedule)
        kappa = p.kappa
    }
}

/// What prune-apply is asked to do.
public struct ApplyRequest: Sendable {
    /// The model path, `-` for stdin; may be zstd-compressed.
    public var model: String
    /// A JSONL manifest, or a sidecar (replay).
    public var manifest: String
    public var output: OutputTarget
    /// Where the sidecar goes; nil = the manifest path with its extension replaced by `.prune`.
    public var sidecar: String?
    /// The sidecar of the run that produced `model`, to continue its chain.
    public var continueFrom: String?
    public var options: ApplyOptions
    /// Computes the deltas of fact lines (`rome`, `memit`, `alphaedit`); a manifest with fact lines
    /// and no provider is an error.
    public var facts: FactEditProvider?
    /// Also write the restrained deltas as a LoRA adapter here (`prune-adapter`: a `.gguf` file or a
    /// PEFT folder), committed with the sidecar; with `output` `.discard`, no model is written.
    public var adapter: String?
    /// Other files the caller read for this run (e.g. `--restraint-file`): declared as inputs, so that
    /// no output may overwrite them.
    public var otherInputs: [(path: String, what: String)] = []

    public init(model: String, manifest: String, output: OutputTarget, sidecar: String? = nil,
                continueFrom: String? = nil, options: ApplyOptions = ApplyOptions(), facts: FactEditProvider? = nil) {
        self.model = model
        self.manifest = manifest
        self.output = output
        self.sidecar = sidecar
        self.continueFrom = continueFrom
        self.options = options
        self.facts = facts
    }
}

/// What prune-apply did.
public struct ApplyResult: Sendable {
    public enum Mode: String, Sendable { case apply, replay, continuation }
    public struct TensorSummary: Sendable, Equatable {
        public var name: String
        public var sigmaMax: Double
        public var sigmaBefore: Double
        public var sigmaAfter: Double
        public var componentsRestrained: Int
    }

    public var mode: Mode
    /// The sidecar written (nil for replay, which writes none).
    public var sidecarPath: String?
    public var sidecar: Sidecar
    /// Edits applied (for a continuation: of the whole chain).
    public var edits: Int
    public var tensors: [TensorSummary]
    /// SHA-256 of the decompressed input and output.
    public var inputSHA256: String
    public var outputSHA256: String
    /// Decompressed model size and bytes written (compressed size when compressing).
    public var modelBytes: Int
    public var writtenBytes: Int
    /// One line per fact written (fact lines only): the fact and its target probability before → after.
    public var factSummaries: [String] = []
    /// Warnings of the fact engine.
    public var factWarnings: [String] = []

    /// Where the run spent its time (apply and continuation; zero for replay).
    public var timings = ApplyTimings()

    /// Largest σ of the accumulated raw deltas and of the restrained deltas over all tensors.
    public var largestSigmaBefore: Double { tensors.map(\.sigmaBefore).max() ?? 0 }
    public var largestSigmaAfter: Double { tensors.map(\.sigmaAfter).max() ?? 0 }
}

/// Progress of a run, for a terminal display.
public struct ApplyProgress: Sendable {
    /// Edited tensors done and to do.
    public var tensorsDone: Int
    public var tensorsTotal: Int
    public var tensor: String
    public var edits: Int
    /// Bytes of the model's data section passed so far, and in all.
    public var bytesDone: Int
    public var bytesTotal: Int
}
