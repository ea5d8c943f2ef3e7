import Foundation
import PruneFormats
import PruneTokenizers

/// How a model is loaded.
public struct LoadOptions: Sendable {
    /// Threads of the forward pass (results do not depend on it).
    public var threads: Int
    /// Whether the tokenizer is loaded.
    public var tokenizer: TokenizerPolicy
    /// What the linear layers of the forward pass multiply stored weights with (`Transformer.activations`).
    public var activations: ActivationPrecision

    public enum TokenizerPolicy: Sendable {
        /// Loaded when the model has one (tokenizer.json / tokenizer.model in the folder,
        /// `tokenizer.ggml.*` metadata in a GGUF); a tokenizer that is there but broken is an error.
        case ifPresent
        /// A model without a tokenizer is an error.
        case required
        /// Not loaded.
        case skip
    }

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, tokenizer: TokenizerPolicy = .ifPresent,
                activations: ActivationPrecision = .f32) {
        self.threads = max(1, threads)
        self.tokenizer = tokenizer
        self.activations = activations
    }
}

/// A model loaded from a Hugging Face folder or a GGUF file: its configuration, weights, tokenizer
/// and the numeric model.
public final class LanguageModel: @unchecked Sendable {
    /// The path it was loaded from.
    public let path: String
    public let format: ModelFormat
    public let transformer: Transformer
    /// The Hugging Face folder, or nil for a GGUF file.
    public let folder: String?
    /// The model's tokenizer (see `LoadOptions.tokenizer`).
    public let tokenizer: Tokenizer?

    public var config: ModelConfig { transformer.config }
    public var weights: ModelWeights { transformer.weights }

    init(path: String, format: ModelFormat, folder: String?, transformer: Transformer, tokenizer: Tokenizer?) {
        self.path = path
        self.format = format
        self.folder = folder
        self.transformer = transformer
        self.tokenizer = tokenizer
    }

    /// Loads `path`: a Hugging Face folder (config.json with model.safetensors or sharded
    /// model-0000k-of-0000n.safetensors and model.safetensors.index.json; f32, f16 or bf16), a
    /// safetensors file with config.json beside it, or a GGUF file (any type prune decodes; `.zst` too).
    public static func load(_ path: String, options: LoadOptions = LoadOptions()) throws -> LanguageModel {
        let config: ModelConfig
        let weights: ModelWeights
        let format: ModelFormat
        var folder: String?
        var tokenizerSource: String?
        switch try ModelFiles.open(path) {
        case .huggingFace(let dir, let configPath, let files):
            var c = try HFConfigReader.read(path: configPath)
            weights = try WeightLoader.load(store: TensorStore(files: files, architecture: c.architecture), config: &c)
            config = c
            format = .safetensors
            folder = dir
            let fm = FileManager.default
            if fm.fileExists(atPath: dir + "/tokenizer.json") || fm.fileExists(atPath: dir + "/tokenizer.model") { tokenizerSource = dir }
        case .gguf(let file):
            guard case .gguf(let header) = file.header else { throw RuntimeError.badArgument("\(path): not a GGUF file (at byte 0)") }
            var c = try GGUFConfigReader.read(header: header, path: path, tensorShape: { file.info(named: $0)?.shape })
            weights = try WeightLoader.load(store: TensorStore(files: [file], architecture: c.architecture), config: &c)
            config = c
            format = .gguf
            if header["tokenizer.ggml.model"] != nil { tokenizerSource = path }
        }
        _ = config
        var tokenizer: Tokenizer?
        switch options.tokenizer {
        case .skip: break
        case .ifPresent: tokenizer = try tokenizerSource.map { try TokenizerLoader.load(path: $0) }
        case .required:
            guard let source = tokenizerSource else { throw RuntimeError.missingTokenizer(path: path) }
            tokenizer = try TokenizerLoader.load(path: source)
        }
        return LanguageModel(path: path, format: format, folder: folder,
                             transformer: Transformer(weights: weights, threads: options.threads, activations: options.activations),
                             tokenizer: tokenizer)
    }

    // MARK: - Text

    /// The tokenizer, or an error naming the model when it has none.
    public func requireTokenizer() throws -> Tokenizer {
        guard let tokenizer else { throw RuntimeError.missingTokenizer(path: path) }
        return tokenizer
    }

    /// The ids of `text` with the model's own special tokens (BOS where the model adds it).
    public func encode(_ text: String) throws -> [Int32] {
        try requireTokenizer().encode(text, addSpecialTokens: true)
    }

    public func decode(_ ids: [Int32]) throws -> String {
        try requireTokenizer().decode(ids)
    }

    /// The tokens that end a generation: the configuration's end tokens and the tokenizer's.
    public var stopTokens: Set<Int32> {
        Set(config.eosTokenIDs).union(tokenizer?.endOfGenerationIDs ?? [])
    }

    /// Continues each text (see `Transformer.generate`); stops at `stopTokens` unless the options
    /// name others.
    public func generate(_ prompts: [String], options: GenerationOptions = GenerationOptions(),
                         onStep: ((Int, GeneratedStep) -> Void)? = nil) throws -> [Generation] {
        var o = options
        if o.stopTokens == nil { o.stopTokens = stopTokens }
        return try transformer.generate(try prompts.map { try encode($0) }, options: o, onStep: onStep)
    }
}
