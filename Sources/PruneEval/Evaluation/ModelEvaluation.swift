/// Everything measured on one model.
package struct ModelEvaluation: Sendable, Equatable {
    /// The model as the user named it.
    package var model: String
    /// Per-request CounterFact results (empty without requests).
    package var requests: [RequestResult] = []
    package var summary: CounterFactSummary?
    package var perplexity: PerplexityResult?
    package var tasks: [ChoiceTaskResult] = []
    package var fluency: FluencyResult?
    package var conditioning: [MatrixConditioning] = []

    package init(model: String) { self.model = model }
}
