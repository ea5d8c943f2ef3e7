/// Opens a model for evaluation on the runtime: a Hugging Face folder or a GGUF file.
package enum EvaluationModelLoader {
    package static func load(_ path: String, threads: Int?) throws -> any EvaluationModel {
        throw EvalError.unreadable(path: path, reason: "the model runtime is not part of this build yet")
    }
}
