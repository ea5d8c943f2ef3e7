import PruneRuntime

/// Runs an evaluation on one model. Progress goes to a callback: the stage, the work done and its total.
package struct Evaluator {
    package var inputs: EvaluationInputs

    package init(inputs: EvaluationInputs) { self.inputs = inputs }

    package typealias Progress = (_ stage: String, _ done: Int, _ total: Int) -> Void
    /// Gives a matrix of the model by tensor name (for κ).
    package typealias MatrixSource = (_ tensor: String) throws -> (rows: Int, cols: Int, values: [Float])

    /// Log-probabilities, logits or a perplexity that are not finite are an error naming the model
    /// (`name`) and the place (the input file and line).
    package func evaluate(_ model: any EvaluationModel, name: String, matrices: MatrixSource? = nil,
                          progress: Progress = { _, _, _ in }) throws -> ModelEvaluation {
        do {
            return try measure(model, name: name, matrices: matrices, progress: progress)
        } catch EvalError.nonFinite(nil, let place, let what) {
            throw EvalError.nonFinite(model: name, place: place, what: what)
        }
    }

    private func measure(_ model: any EvaluationModel, name: String, matrices: MatrixSource?,
                         progress: Progress) throws -> ModelEvaluation {
        var result = ModelEvaluation(model: name)
        let batch = inputs.options.batchSize
        if let path = inputs.options.requests {
            result.requests = try CounterFactEvaluator(chunkSize: batch).evaluate(inputs.records, model: model, path: path) {
                progress("requests", $0, $1)
            }
            result.summary = CounterFactSummary(result.requests)
        }
        if inputs.options.perplexity != nil {
            let ppl = PerplexityEvaluator(maxTokens: inputs.options.perplexityTokens, chunkSize: batch)
            let docs = try ppl.tokenize(inputs.documents, model: model)
            let path = inputs.options.perplexity ?? "perplexity"
            let p = try ppl.evaluate(tokenized: docs, model: model, path: path, lines: inputs.documents.map(\.line)) {
                progress("perplexity", $0, $1)
            }
            guard p.tokens > 0 else { throw EvalError.empty(path: path, what: "no document gives two tokens or more (nothing to predict)") }
            guard p.perplexity.isFinite else { throw EvalError.nonFinite(model: name, place: path, what: "the perplexity is") }
            result.perplexity = p
        }
        for task in inputs.tasks {
            result.tasks.append(try ChoiceTaskEvaluator(chunkSize: batch).evaluate(task.questions, model: model, path: task.path) {
                progress("task \(task.path)", $0, $1)
            })
        }
        if let n = inputs.options.generate {
            let prompts = FluencyEvaluator.prompts(inputs.records)
            do {
                result.fluency = try FluencyEvaluator(maxTokens: n, chunkSize: batch).evaluate(prompts: prompts, model: model) {
                    progress("generation", $0, $1)
                }
            } catch RuntimeError.nonFiniteLogits {
                throw EvalError.nonFinite(model: name, place: "generation after the prompts of \(inputs.options.requests ?? "the requests")",
                                          what: "the logits are")
            }
        }
        if !inputs.kappaTensors.isEmpty {
            guard let matrices else { throw EvalError.badOption("--kappa needs the model's weights") }
            for (i, t) in inputs.kappaTensors.enumerated() {
                let m = try matrices(t)
                result.conditioning.append(try MatrixConditioning.measure(tensor: t, rows: m.rows, cols: m.cols, values: m.values))
                progress("kappa", i + 1, inputs.kappaTensors.count)
            }
        }
        return result
    }
}
