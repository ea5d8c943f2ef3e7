/// CounterFact averages over requests (ROME/MEMIT `summarize.py`): each metric is the mean of the
/// per-request values over the requests that have it, and Score is the harmonic mean of the
/// efficacy, paraphrase and neighborhood success rates (MEMIT's definition).
package struct CounterFactSummary: Sendable, Equatable {
    package var count: Int
    package var efficacySuccess: Double?
    package var paraphraseSuccess: Double?
    package var neighborhoodSuccess: Double?
    package var efficacyMagnitude: Double?
    package var paraphraseMagnitude: Double?
    package var neighborhoodMagnitude: Double?

    package init(_ rows: [RequestResult]) {
        count = rows.count
        efficacySuccess = RequestResult.mean(rows.map(\.efficacySuccess))
        efficacyMagnitude = RequestResult.mean(rows.map(\.efficacyMagnitude))
        paraphraseSuccess = RequestResult.mean(rows.compactMap(\.paraphraseSuccess))
        paraphraseMagnitude = RequestResult.mean(rows.compactMap(\.paraphraseMagnitude))
        neighborhoodSuccess = RequestResult.mean(rows.compactMap(\.neighborhoodSuccess))
        neighborhoodMagnitude = RequestResult.mean(rows.compactMap(\.neighborhoodMagnitude))
    }

    /// The harmonic mean of the three success rates; nil unless all three exist.
    package var score: Double? {
        guard let e = efficacySuccess, let p = paraphraseSuccess, let n = neighborhoodSuccess else { return nil }
        return Self.harmonicMean([e, p, n])
    }

    /// The harmonic mean of non-negative values: 0 when any is 0 (scipy's `hmean`).
    package static func harmonicMean(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        if values.contains(where: { $0 == 0 }) { return 0 }
        return Double(values.count) / values.reduce(0) { $0 + 1 / $1 }
    }
}
