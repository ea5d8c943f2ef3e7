/// Runs an evaluation on one model. Progress goes to a callback: the stage, the work done and its total.
package struct Evaluator {
    package var inputs: EvaluationInputs

    package init(inputs: EvaluationInputs) { self.inputs = inputs }

    package typealias Progress = (_ stage: String, _ done: Int, _ total: Int) -> Void
    /// Gives a matrix of the model by tensor name (for κ).
    package typealias MatrixSource = (_ tensor: String) throws -> (rows: Int, cols: Int, values: [Float])

    package func evaluate(_ model: any EvaluationModel, name: String, matrices: MatrixSource? = nil,
                          progress: Progress = { _, _, _ in }) throws -> ModelEvaluation {
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
            result.perplexity = try ppl.evaluate(tokenized: docs, model: model) { progress("perplexity", $0, $1) }
        }
        for task in inputs.tasks {
            result.tasks.append(try ChoiceTaskEvaluator(chunkSize: batch).evaluate(task.questions, model: model, path: task.path) {
                progress("task \(task.path)", $0, $1)
            })
        }
        if let n = inputs.options.generate {
            let prompts = FluencyEvaluator.prompts(inputs.records)
            result.fluency = try FluencyEvaluator(maxTokens: n, chunkSize: batch).evaluate(prompts: prompts, model: model) {
                progress("generation", $0, $1)
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
