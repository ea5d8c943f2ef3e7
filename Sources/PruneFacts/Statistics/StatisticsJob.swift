import Foundation
import PruneFormats
import PruneRuntime
import PruneTokenizers

/// `prune-stats`: key statistics of a model at a layer over a text, and the sum of partial ones.
public enum StatisticsJob {
    public struct Caps: Sendable {
        public var docTokens: Int
        public var maxTokens: Int
        public var maxDocuments: Int
        public init(docTokens: Int = 0, maxTokens: Int = 0, maxDocuments: Int = 100_000) {
            self.docTokens = docTokens
            self.maxTokens = maxTokens
            self.maxDocuments = maxDocuments
        }
    }

    /// How a run is sliced and checkpointed (`prune-stats compute --part --resume`).
    public struct Run: Sendable {
        public var part: StatisticsComputer.Part
        /// Where checkpoints go (nil: none).
        public var checkpoint: String?
        /// A checkpoint every N chunks of `StatisticsComputer.chunkDocuments` documents.
        public var checkpointEvery: Int
        /// Go on from `checkpoint` when it exists.
        public var resume: Bool
        public init(part: StatisticsComputer.Part = .whole, checkpoint: String? = nil, checkpointEvery: Int = 16, resume: Bool = false) {
            self.part = part
            self.checkpoint = checkpoint
            self.checkpointEvery = checkpointEvery
            self.resume = resume
        }
    }

    /// Computes the statistics (no cache: this is the explicit computation). `afterCheckpoint` is
    /// called after each checkpoint is written (it may throw to stop the run there).
    public static func compute(model path: String, text textPath: String, layer: Int, caps: Caps, threads: Int,
                               run: Run = Run(), afterCheckpoint: (() throws -> Void)? = nil,
                               progress: ((StatisticsComputer.Progress) -> Void)? = nil) throws -> KeyStatistics {
        let model: LanguageModel
        do { model = try LanguageModel.load(path, options: LoadOptions(threads: threads)) } catch let e as CheckpointFolderError {
            throw e                                            // names the file already (a split GGUF part)
        } catch {
            throw FactError.unsupportedModel(path: path, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        guard layer >= 0, layer < model.config.layerCount else {
            throw FactError.unsupportedModel(path: path, reason: "layer \(layer) is out of range (the model has layers 0…\(model.config.layerCount - 1))")
        }
        let tokenizer: Tokenizer
        do { tokenizer = try TokenizerLoader.load(path: path) } catch {
            throw FactError.unsupportedModel(path: path, reason: "no usable tokenizer: " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
        let text = try StatisticsText.load(path: textPath)
        let fact = FactModel(model)
        let docTokens = caps.docTokens > 0 ? caps.docTokens : min(model.config.contextLength, 4096)
        let modelHash = try StatisticsIdentity.modelHash(fact, layer: layer)
        var resume: StatisticsComputer.Checkpoint?
        var save: ((StatisticsComputer.Checkpoint) throws -> Void)?
        if let file = run.checkpoint {
            let key = StatisticsCache.Key(modelHash: modelHash, network: StatisticsIdentity.networkHash(model.config),
                                          tokenizer: (try? TokenizerLoader.identity(path: path)) ?? "unknown", layer: layer,
                                          textSHA256: text.sha256, docTokens: docTokens, maxTokens: caps.maxTokens,
                                          maxDocuments: caps.maxDocuments, arithmetic: BLASCore.name)
            let identity = StatisticsCheckpoint.Identity(key: key, part: run.part, width: model.config.ffnSize)
            if FileManager.default.fileExists(atPath: file) {
                guard run.resume else {
                    throw FactError.badStatisticsFile(path: file, reason: "the checkpoint of an interrupted run exists: pass --resume to go on from it, or remove it")
                }
                resume = try StatisticsCheckpoint.read(path: file, expected: identity)
            }
            save = { c in
                try StatisticsCheckpoint.write(c, identity: identity, to: file)
                try afterCheckpoint?()
            }
        }
        let s = try StatisticsComputer(model: fact, tokenizer: RuntimeTokenizer(tokenizer), threads: threads)
            .compute(text: text, layer: layer, modelHash: modelHash, docTokens: docTokens, maxTokens: caps.maxTokens,
                     maxDocuments: caps.maxDocuments, part: run.part, arithmetic: BLASCore.name, resume: resume,
                     checkpointEvery: save == nil ? 0 : run.checkpointEvery, checkpoint: save, progress: progress,
                     materialize: false)
        return s
    }

    /// The sum of partial statistics files (same model part and layer): exact when every file holds
    /// its exact sum (then the same bytes whatever the split and the order), else added in f64.
    public static func merge(_ paths: [String]) throws -> KeyStatistics {
        guard let first = paths.first else { throw FactError.badStatisticsFile(path: "-", reason: "nothing to merge") }
        // Files with their exact sums are merged as exact sums alone (the f64 sum is written from the total).
        func read(_ p: String) throws -> KeyStatistics {
            var s = try KeyStatisticsFile.read(path: p, exact: true)
            if s.exact != nil { s.sum = [] }
            return s
        }
        var total = try read(first)
        for p in paths.dropFirst() { try total.merge(try read(p), otherName: p) }
        return total
    }
}
