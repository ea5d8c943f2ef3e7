/// The CounterFact metrics of one request, as ROME/MEMIT's `summarize.py` computes them per case.
package struct RequestResult: Sendable, Equatable {
    package var caseID: Int
    package var subject: String
    package var rewrite: PromptScores
    package var paraphrase: [PromptScores]
    package var neighborhood: [PromptScores]

    package init(caseID: Int, subject: String, rewrite: PromptScores, paraphrase: [PromptScores], neighborhood: [PromptScores]) {
        self.caseID = caseID
        self.subject = subject
        self.rewrite = rewrite
        self.paraphrase = paraphrase
        self.neighborhood = neighborhood
    }

    /// [score(true) > score(new)] on the rewrite prompt.
    package var efficacySuccess: Double { rewrite.prefersNew ? 1 : 0 }
    /// exp(−score(new)) − exp(−score(true)) on the rewrite prompt.
    package var efficacyMagnitude: Double { rewrite.newMargin }
    /// The mean of [score(true) > score(new)] over the paraphrase prompts (nil without any).
    package var paraphraseSuccess: Double? { Self.mean(paraphrase.map { $0.prefersNew ? 1 : 0 }) }
    package var paraphraseMagnitude: Double? { Self.mean(paraphrase.map(\.newMargin)) }
    /// The mean of [score(true) < score(new)] over the neighborhood prompts (nil without any).
    package var neighborhoodSuccess: Double? { Self.mean(neighborhood.map { $0.prefersTrue ? 1 : 0 }) }
    /// The mean of exp(−score(true)) − exp(−score(new)) over the neighborhood prompts.
    package var neighborhoodMagnitude: Double? { Self.mean(neighborhood.map { -$0.newMargin }) }

    static func mean(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        return v.reduce(0, +) / Double(v.count)
    }
}
