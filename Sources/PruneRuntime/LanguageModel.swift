import Foundation
import PruneFormats

/// How a model is loaded.
public struct LoadOptions: Sendable {
    /// Threads of the forward pass (results do not depend on it).
    public var threads: Int
    /// Matrices stored in 16-bit or quantized form are decoded to f32 once at load when all of them
    /// together take at most this many bytes as f32 (faster for small models); otherwise they stay
    /// mapped and are decoded a block of rows at a time during the forward. 0 never decodes up front.
    public var decodedWeightBudget: Int

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, decodedWeightBudget: Int = 1 << 30) {
        self.threads = max(1, threads)
        self.decodedWeightBudget = decodedWeightBudget
    }
}

/// A model loaded from a Hugging Face folder or a GGUF file: its configuration, weights and the
/// numeric model.
public final class LanguageModel: @unchecked Sendable {
    /// The path it was loaded from.
    public let path: String
    public let format: ModelFormat
    public let transformer: Transformer
    /// The Hugging Face folder, or nil for a GGUF file.
    public let folder: String?

    public var config: ModelConfig { transformer.config }
    public var weights: ModelWeights { transformer.weights }

    init(path: String, format: ModelFormat, folder: String?, transformer: Transformer) {
        self.path = path
        self.format = format
        self.folder = folder
        self.transformer = transformer
    }

    /// Loads `path`: a Hugging Face folder (config.json with model.safetensors or sharded
    /// model-0000k-of-0000n.safetensors and model.safetensors.index.json; f32, f16 or bf16), a
    /// safetensors file with config.json beside it, or a GGUF file (any type prune decodes; `.zst` too).
    public static func load(_ path: String, options: LoadOptions = LoadOptions()) throws -> LanguageModel {
        let config: ModelConfig
        var weights: ModelWeights
        let format: ModelFormat
        var folder: String?
        switch try ModelFiles.open(path) {
        case .huggingFace(let dir, let configPath, let files):
            var c = try HFConfigReader.read(path: configPath)
            let known = KnownArchitecture(name: c.architecture.rawValue)!
            weights = try WeightLoader.load(store: TensorStore(files: files, architecture: known), config: &c)
            config = c
            format = .safetensors
            folder = dir
        case .gguf(let file):
            guard case .gguf(let header) = file.header else { throw RuntimeError.badArgument("\(path): not a GGUF file (at byte 0)") }
            var c = try GGUFConfigReader.read(header: header, path: path, tensorShape: { file.info(named: $0)?.shape })
            let known = KnownArchitecture(name: c.architecture.rawValue)!
            weights = try WeightLoader.load(store: TensorStore(files: [file], architecture: known), config: &c)
            config = c
            format = .gguf
        }
        _ = config
        let decoded = weights.decodedBytes
        if decoded > 0, decoded <= options.decodedWeightBudget {
            weights = weights.decodedCopy(threads: options.threads)
        }
        return LanguageModel(path: path, format: format, folder: folder,
                             transformer: Transformer(weights: weights, threads: options.threads))
    }
}
