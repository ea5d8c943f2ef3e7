import PruneRuntime
import PruneTokenizers

/// Opens a model for evaluation on the runtime: a Hugging Face folder (or a safetensors file in
/// one) or a GGUF file, with its own tokenizer.
package enum EvaluationModelLoader {
    package static func load(_ path: String, threads: Int?, activations: ActivationPrecision = .f32) throws -> RuntimeEvaluationModel {
        var options = threads.map { LoadOptions(threads: $0) } ?? LoadOptions()
        options.tokenizer = .required
        options.activations = activations
        let model = try LanguageModel.load(path, options: options)
        return wrap(model.transformer, tokenizer: try model.requireTokenizer())
    }

    /// The evaluation model over a transformer and a tokenizer (e.g. a transformer whose weights an
    /// experiment edits in memory).
    package static func wrap(_ transformer: Transformer, tokenizer: Tokenizer) -> RuntimeEvaluationModel {
        let stops = Set(transformer.config.eosTokenIDs).union(tokenizer.endOfGenerationIDs)
        return RuntimeEvaluationModel(transformer: transformer, stopTokens: stops,
                                      encode: { tokenizer.encode($0, addSpecialTokens: true).map(Int.init) },
                                      decode: { tokenizer.decode($0.map { Int32($0) }, skipSpecialTokens: true) })
    }
}
