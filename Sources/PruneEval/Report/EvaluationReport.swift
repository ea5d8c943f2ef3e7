import PruneFormats

/// The result of `prune-eval`: the model's measurements and, with a base, the base's and the change.
package struct EvaluationReport: Sendable, Equatable {
    package var model: ModelEvaluation
    package var base: ModelEvaluation?

    package init(model: ModelEvaluation, base: ModelEvaluation? = nil) {
        self.model = model
        self.base = base
    }

    /// The averages by JSON key, in report order (nil values are measured but undefined).
    package static func averages(_ e: ModelEvaluation) -> [(key: String, value: Double?)] {
        var out: [(String, Double?)] = []
        if let s = e.summary {
            out += [("efficacy_success", s.efficacySuccess), ("paraphrase_success", s.paraphraseSuccess),
                    ("neighborhood_success", s.neighborhoodSuccess), ("efficacy_magnitude", s.efficacyMagnitude),
                    ("paraphrase_magnitude", s.paraphraseMagnitude), ("neighborhood_magnitude", s.neighborhoodMagnitude),
                    ("score", s.score)]
        }
        if let p = e.perplexity { out.append(("perplexity", p.perplexity)) }
        if let f = e.fluency { out.append(("ngram_entropy", f.ngramEntropy)) }
        return out
    }

    package func json() -> JSONNode {
        var members = Self.jsonMembers(model)
        if let base {
            members.append(.init(key: "base", value: .object(Self.jsonMembers(base))))
            members.append(.init(key: "change", value: .object(change(model, base))))
        }
        return .object(members)
    }

    static func number(_ v: Double?) -> JSONNode { v.map { JSONNode.double($0) } ?? .null }

    static func jsonMembers(_ e: ModelEvaluation) -> [JSONNodeMember] {
        func m(_ k: String, _ v: JSONNode) -> JSONNodeMember { .init(key: k, value: v) }
        var out: [JSONNodeMember] = [m("model", .string(e.model))]
        if e.summary != nil { out.append(m("request_count", .int(e.requests.count))) }
        for (k, v) in averages(e) { out.append(m(k, number(v))) }
        if let p = e.perplexity {
            out.append(m("perplexity_documents", .int(p.documents)))
            out.append(m("perplexity_tokens", .int(p.tokens)))
        }
        if !e.tasks.isEmpty {
            out.append(m("tasks", .array(e.tasks.map { t in
                .object([m("file", .string(t.path)), m("questions", .int(t.questions)),
                         m("accuracy", number(t.accuracy)), m("accuracy_norm", number(t.accuracyNormalized))])
            })))
        }
        if let f = e.fluency {
            out.append(m("generation_tokens", .int(f.maxTokens)))
            out.append(m("generations", .array(f.texts.map { .string($0) })))
        }
        if !e.conditioning.isEmpty {
            out.append(m("kappa", .array(e.conditioning.map { c in
                .object([m("tensor", .string(c.tensor)), m("rows", .int(c.rows)), m("cols", .int(c.cols)),
                         m("kappa", number(c.kappa)), m("sigma_max", number(c.sigmaMax)), m("sigma_min", number(c.sigmaMin))])
            })))
        }
        if e.summary != nil {
            out.append(m("rows", .array(e.requests.map(row))))
        }
        return out
    }

    static func row(_ r: RequestResult) -> JSONNode {
        func m(_ k: String, _ v: JSONNode) -> JSONNodeMember { .init(key: k, value: v) }
        func scores(_ p: PromptScores) -> JSONNode {
            .object([m("prompt", .string(p.prompt)), m("target_new", number(p.new)), m("target_true", number(p.true))])
        }
        return .object([
            m("case_id", .int(r.caseID)), m("subject", .string(r.subject)),
            m("efficacy_success", number(r.efficacySuccess)), m("paraphrase_success", number(r.paraphraseSuccess)),
            m("neighborhood_success", number(r.neighborhoodSuccess)), m("efficacy_magnitude", number(r.efficacyMagnitude)),
            m("paraphrase_magnitude", number(r.paraphraseMagnitude)), m("neighborhood_magnitude", number(r.neighborhoodMagnitude)),
            m("rewrite", scores(r.rewrite)), m("paraphrase", .array(r.paraphrase.map(scores))),
            m("neighborhood", .array(r.neighborhood.map(scores))),
        ])
    }

    func change(_ a: ModelEvaluation, _ b: ModelEvaluation) -> [JSONNodeMember] {
        func m(_ k: String, _ v: JSONNode) -> JSONNodeMember { .init(key: k, value: v) }
        func diff(_ x: Double?, _ y: Double?) -> JSONNode {
            guard let x, let y else { return .null }
            return .double(x - y)
        }
        let bv = Dictionary(Self.averages(b).map { ($0.key, $0.value) }, uniquingKeysWith: { x, _ in x })
        var out = Self.averages(a).map { m($0.key, diff($0.value, bv[$0.key] ?? nil)) }
        if !a.tasks.isEmpty {
            out.append(m("tasks", .array(zip(a.tasks, b.tasks).map { x, y in
                .object([m("file", .string(x.path)), m("accuracy", diff(x.accuracy, y.accuracy)),
                         m("accuracy_norm", diff(x.accuracyNormalized, y.accuracyNormalized))])
            })))
        }
        if !a.conditioning.isEmpty {
            out.append(m("kappa", .array(zip(a.conditioning, b.conditioning).map { x, y in
                .object([m("tensor", .string(x.tensor)), m("kappa", diff(x.kappa, y.kappa)),
                         m("sigma_max", diff(x.sigmaMax, y.sigmaMax))])
            })))
        }
        return out
    }
}
