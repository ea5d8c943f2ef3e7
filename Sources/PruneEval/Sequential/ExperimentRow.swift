import Foundation
import PruneFormats

/// One measured checkpoint of one arm (or the base model before any edit), as written to the rows
/// file and drawn in the table and the plot.
package struct ExperimentRow: Sendable, Equatable {
    package struct TensorState: Sendable, Equatable {
        package var tensor: String
        package var kappa: Double
        package var sigmaMax: Double
        package var sigmaMaxW0: Double
        /// The top singular values of the accumulated delta before and after the restraint.
        package var deltaBefore: [Double]
        package var deltaAfter: [Double]
        package var restrained: Int
    }

    package struct Task: Sendable, Equatable {
        package var file: String
        package var accuracy: Double
        package var accuracyNorm: Double
    }

    /// The arm's name, or "base".
    package var arm: String
    package var edits: Int
    package var efficacySuccess: Double?
    package var paraphraseSuccess: Double?
    package var neighborhoodSuccess: Double?
    package var efficacyMagnitude: Double?
    package var paraphraseMagnitude: Double?
    package var neighborhoodMagnitude: Double?
    package var score: Double?
    package var perplexity: Double?
    package var tasks: [Task] = []
    package var tensors: [TensorState] = []
    /// Seconds spent measuring the row.
    package var seconds: Double = 0

    package init(arm: String, edits: Int) {
        self.arm = arm
        self.edits = edits
    }

    /// Fills the measurements from an evaluation.
    package mutating func take(_ e: ModelEvaluation) {
        if let s = e.summary {
            efficacySuccess = s.efficacySuccess
            paraphraseSuccess = s.paraphraseSuccess
            neighborhoodSuccess = s.neighborhoodSuccess
            efficacyMagnitude = s.efficacyMagnitude
            paraphraseMagnitude = s.paraphraseMagnitude
            neighborhoodMagnitude = s.neighborhoodMagnitude
            score = s.score
        }
        perplexity = e.perplexity?.perplexity
        tasks = e.tasks.map { Task(file: $0.path, accuracy: $0.accuracy, accuracyNorm: $0.accuracyNormalized) }
    }

    /// The largest κ over the edited matrices.
    package var kappaMax: Double? { tensors.map(\.kappa).max() }

    // MARK: - JSON

    package func json() -> JSONNode {
        func m(_ k: String, _ v: JSONNode) -> JSONNodeMember { .init(key: k, value: v) }
        func n(_ v: Double?) -> JSONNode { v.map { JSONNode.double($0) } ?? .null }
        return .object([
            m("kind", .string("checkpoint")), m("arm", .string(arm)), m("edits", .int(edits)),
            m("efficacy_success", n(efficacySuccess)), m("paraphrase_success", n(paraphraseSuccess)),
            m("neighborhood_success", n(neighborhoodSuccess)), m("efficacy_magnitude", n(efficacyMagnitude)),
            m("paraphrase_magnitude", n(paraphraseMagnitude)), m("neighborhood_magnitude", n(neighborhoodMagnitude)),
            m("score", n(score)), m("perplexity", n(perplexity)),
            m("tasks", .array(tasks.map { .object([m("file", .string($0.file)), m("accuracy", n($0.accuracy)),
                                                    m("accuracy_norm", n($0.accuracyNorm))]) })),
            m("tensors", .array(tensors.map { t in
                .object([m("tensor", .string(t.tensor)), m("kappa", n(t.kappa)), m("sigma_max", n(t.sigmaMax)),
                         m("sigma_max_w0", n(t.sigmaMaxW0)), m("delta_sigma_before", .array(t.deltaBefore.map { .double($0) })),
                         m("delta_sigma_after", .array(t.deltaAfter.map { .double($0) })), m("restrained", .int(t.restrained))])
            })),
            m("seconds", n(seconds)),
        ])
    }

    /// Reads a row back (resume, plots of a finished run).
    package init(json node: JSONNode, path: String, line: Int) throws {
        func bad(_ what: String) -> EvalError { .badRecord(path: path, line: line, what: what) }
        func num(_ v: JSONNode?) -> Double? {
            switch v {
            case .number(let t)?: return Double(t)
            case .string(let t)?: return Double(t)   // non-finite values are written as strings
            default: return nil
            }
        }
        guard let arm = node["arm"]?.stringValue, let edits = node["edits"]?.nonNegativeInt else {
            throw bad("a checkpoint row needs \"arm\" and \"edits\"")
        }
        self.init(arm: arm, edits: edits)
        efficacySuccess = num(node["efficacy_success"])
        paraphraseSuccess = num(node["paraphrase_success"])
        neighborhoodSuccess = num(node["neighborhood_success"])
        efficacyMagnitude = num(node["efficacy_magnitude"])
        paraphraseMagnitude = num(node["paraphrase_magnitude"])
        neighborhoodMagnitude = num(node["neighborhood_magnitude"])
        score = num(node["score"])
        perplexity = num(node["perplexity"])
        if case .array(let items)? = node["tasks"] {
            tasks = try items.map { t in
                guard let f = t["file"]?.stringValue, let a = num(t["accuracy"]), let an = num(t["accuracy_norm"]) else {
                    throw bad("a task entry needs \"file\", \"accuracy\" and \"accuracy_norm\"")
                }
                return Task(file: f, accuracy: a, accuracyNorm: an)
            }
        }
        if case .array(let items)? = node["tensors"] {
            tensors = try items.map { t in
                guard let name = t["tensor"]?.stringValue, let k = num(t["kappa"]), let s = num(t["sigma_max"]),
                      let s0 = num(t["sigma_max_w0"]) else { throw bad("a tensor entry needs \"tensor\", \"kappa\", \"sigma_max\", \"sigma_max_w0\"") }
                func list(_ v: JSONNode?) -> [Double] {
                    guard case .array(let a)? = v else { return [] }
                    return a.compactMap { num($0) }
                }
                return TensorState(tensor: name, kappa: k, sigmaMax: s, sigmaMaxW0: s0, deltaBefore: list(t["delta_sigma_before"]),
                                   deltaAfter: list(t["delta_sigma_after"]), restrained: t["restrained"]?.nonNegativeInt ?? 0)
            }
        }
        seconds = num(node["seconds"]) ?? 0
    }
}
