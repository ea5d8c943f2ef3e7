import PruneKit

/// The inputs of an evaluation, read and checked once and then scored on each model.
package struct EvaluationInputs: Sendable {
    package var options: EvaluationOptions
    package var records: [CounterFactRecord] = []
    package var documents: [TextDocuments.Document] = []
    package var tasks: [(path: String, questions: [ChoiceQuestion])] = []
    /// The tensors listed in the `--kappa` sidecar, in its order.
    package var kappaTensors: [String] = []

    package static func load(_ options: EvaluationOptions) throws -> EvaluationInputs {
        var inputs = EvaluationInputs(options: options)
        if let g = options.generate {
            guard g >= 1 else { throw EvalError.badOption("--generate must be at least 1") }
            guard options.requests != nil else { throw EvalError.badOption("--generate needs --requests (its prompts are the requests')") }
        }
        guard options.perplexityTokens >= 2 else { throw EvalError.badOption("--ppl-tokens must be at least 2") }
        if let n = options.perplexityDocuments, n < 1 { throw EvalError.badOption("--ppl-docs must be at least 1") }
        if let r = options.requests { inputs.records = try CounterFactReader.read(r) }
        if let p = options.perplexity {
            inputs.documents = try TextDocuments.read(p)
            if let n = options.perplexityDocuments { inputs.documents = Array(inputs.documents.prefix(n)) }
        }
        for t in options.tasks { inputs.tasks.append((t, try ChoiceTaskReader.read(t))) }
        if let s = options.kappaSidecar {
            let sidecar = try Sidecar.read(path: s)
            inputs.kappaTensors = sidecar.tensors.map(\.name)
            guard !inputs.kappaTensors.isEmpty else { throw EvalError.empty(path: s, what: "the sidecar lists no tensor") }
        }
        return inputs
    }

    /// Whether anything at all is to be measured.
    package var isEmpty: Bool {
        options.requests == nil && options.perplexity == nil && tasks.isEmpty && kappaTensors.isEmpty
    }
}
