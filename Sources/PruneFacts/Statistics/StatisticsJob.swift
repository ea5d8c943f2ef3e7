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

    /// Computes the statistics (no cache: this is the explicit computation).
    public static func compute(model path: String, text textPath: String, layer: Int, caps: Caps, threads: Int,
                               progress: ((Int, Int) -> Void)? = nil) throws -> KeyStatistics {
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
        return try StatisticsComputer(model: fact, tokenizer: RuntimeTokenizer(tokenizer), threads: threads)
            .compute(text: text, layer: layer, modelHash: try StatisticsIdentity.modelHash(fact, layer: layer), docTokens: docTokens,
                     maxTokens: caps.maxTokens, maxDocuments: caps.maxDocuments, progress: progress)
    }

    /// The sum of partial statistics files (same model part and layer).
    public static func merge(_ paths: [String]) throws -> KeyStatistics {
        guard let first = paths.first else { throw FactError.badStatisticsFile(path: "-", reason: "nothing to merge") }
        var total = try KeyStatisticsFile.read(path: first)
        for p in paths.dropFirst() { total = try total.merged(with: try KeyStatisticsFile.read(path: p), otherName: p) }
        return total
    }
}
