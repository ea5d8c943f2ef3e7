import PruneFormats

/// Reads evaluation requests: CounterFact records (`{"case_id", "requested_rewrite": {"prompt",
/// "subject", "target_new": {"str"}, "target_true": {"str"}}, "paraphrase_prompts",
/// "neighborhood_prompts", …}`) as a JSON array or JSON Lines, and the fact lines of a manifest
/// (`{"kind": "rome", "prompt", "subject", "target" | "target_new", "target_true", …}`, and
/// `memit`/`alphaedit` lines with `"requests": […]`). The evaluation needs `target_true`.
package enum CounterFactReader {
    package static func read(_ path: String) throws -> [CounterFactRecord] {
        let records = try JSONRecords.read(path)
        var out: [CounterFactRecord] = []
        for r in records {
            out += try parse(r.value, path: path, line: r.line, index: out.count)
        }
        guard !out.isEmpty else { throw EvalError.empty(path: path, what: "no requests") }
        return out
    }

    package static func parse(_ node: JSONNode, path: String, line: Int, index: Int) throws -> [CounterFactRecord] {
        func bad(_ what: String) -> EvalError { .badRecord(path: path, line: line, what: what) }
        guard case .object = node else { throw bad("a request must be a JSON object") }
        if let kind = node["kind"] {
            guard let k = kind.stringValue else { throw bad("\"kind\" must be a string") }
            switch k {
            case "rome": break
            case "memit", "alphaedit":
                guard case .array(let items)? = node["requests"], !items.isEmpty else {
                    throw bad("a \(k) line needs \"requests\", a non-empty array")
                }
                var out: [CounterFactRecord] = []
                for (i, item) in items.enumerated() {
                    do {
                        out += try parse(item, path: path, line: line, index: index + i)
                    } catch EvalError.badRecord(_, _, let what) {
                        throw bad("requests[\(i)]: \(what)")
                    }
                }
                return out
            default: throw bad("kind \"\(k)\" is not a fact request (rome, memit, alphaedit)")
            }
        }
        let caseID: Int
        if let c = node["case_id"] {
            guard let v = c.nonNegativeInt else { throw bad("\"case_id\" must be a non-negative integer") }
            caseID = v
        } else {
            caseID = index
        }
        let rewrite = node["requested_rewrite"] ?? node
        guard case .object = rewrite else { throw bad("\"requested_rewrite\" must be an object") }
        func text(_ field: String, in n: JSONNode, required: Bool = true) throws -> String? {
            guard let v = n[field] else {
                if required { throw bad("missing \"\(field)\"") }
                return nil
            }
            if let s = v.stringValue { return s }
            if let s = v["str"]?.stringValue { return s }
            throw bad("\"\(field)\" must be a string or {\"str\": …}")
        }
        guard let prompt = try text("prompt", in: rewrite), let subject = try text("subject", in: rewrite) else {
            throw bad("missing \"prompt\"")
        }
        guard prompt.contains("{}") else { throw bad("the prompt has no {} for the subject: \"\(prompt)\"") }
        guard !subject.isEmpty else { throw bad("empty subject") }
        guard let targetNew = try text("target_new", in: rewrite, required: false) ?? text("target", in: rewrite, required: false) else {
            throw bad("missing \"target_new\" (or \"target\")")
        }
        guard let targetTrue = try text("target_true", in: rewrite, required: false) else {
            throw bad("missing \"target_true\": the evaluation compares the new target with the true one")
        }
        guard !targetNew.isEmpty else { throw bad("empty target_new") }
        guard !targetTrue.isEmpty else { throw bad("empty target_true") }
        func prompts(_ field: String) throws -> [String] {
            guard let v = node[field] ?? rewrite[field] else { return [] }
            guard case .array(let items) = v else { throw bad("\"\(field)\" must be an array of strings") }
            return try items.enumerated().map { i, item in
                guard let s = item.stringValue else { throw bad("\(field)[\(i)] must be a string") }
                guard !s.isEmpty else { throw bad("\(field)[\(i)] is empty") }
                return s
            }
        }
        return [CounterFactRecord(caseID: caseID, prompt: prompt, subject: subject, targetNew: targetNew,
                                  targetTrue: targetTrue, paraphrasePrompts: try prompts("paraphrase_prompts"),
                                  neighborhoodPrompts: try prompts("neighborhood_prompts"),
                                  generationPrompts: try prompts("generation_prompts"), line: line)]
    }
}
