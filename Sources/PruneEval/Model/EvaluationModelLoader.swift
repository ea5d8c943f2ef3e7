import PruneRuntime
import PruneTokenizers

/// Opens a model for evaluation on the runtime: a Hugging Face folder (or a safetensors file in
/// one) or a GGUF file, with its own tokenizer.
package enum EvaluationModelLoader {
    package static func load(_ path: String, threads: Int?) throws -> RuntimeEvaluationModel {
        let options = threads.map { LoadOptions(threads: $0) } ?? LoadOptions()
        let model = try LanguageModel.load(path, options: options)
        let tokenizer = try TokenizerLoader.load(path: path)
        return wrap(model.transformer, tokenizer: tokenizer)
    }

    /// The evaluation model over a transformer and a tokenizer (e.g. a transformer whose weights an
    /// experiment edits in memory).
    package static func wrap(_ transformer: Transformer, tokenizer: Tokenizer) -> RuntimeEvaluationModel {
        var stops = Set(transformer.config.eosTokenIDs)
        stops.formUnion(tokenizer.endOfGenerationIDs)
        return RuntimeEvaluationModel(transformer: transformer, stopTokens: stops,
                                      encode: { tokenizer.encode($0).map(Int.init) },
                                      decode: { tokenizer.decode($0.map { Int32($0) }, skipSpecialTokens: true) })
    }
}
