import PruneFormats

/// Reads a multiple-choice task: JSON Lines (or a JSON array) of
/// `{"prompt": …, "choices": [ … ], "answer": i}`, where `answer` is the 0-based index of the right
/// choice or the right choice itself.
package enum ChoiceTaskReader {
    package static func read(_ path: String) throws -> [ChoiceQuestion] {
        var out: [ChoiceQuestion] = []
        for r in try JSONRecords.read(path) {
            out.append(try parse(r.value, path: path, line: r.line))
        }
        guard !out.isEmpty else { throw EvalError.empty(path: path, what: "no questions") }
        return out
    }

    package static func parse(_ node: JSONNode, path: String, line: Int) throws -> ChoiceQuestion {
        func bad(_ what: String) -> EvalError { .badRecord(path: path, line: line, what: what) }
        guard case .object = node else { throw bad("a question must be a JSON object") }
        guard let prompt = node["prompt"]?.stringValue else { throw bad("missing \"prompt\" (a string)") }
        guard case .array(let items)? = node["choices"], items.count >= 2 else {
            throw bad("\"choices\" must be an array of at least two strings")
        }
        let choices: [String] = try items.enumerated().map { i, item in
            guard let s = item.stringValue, !s.isEmpty else { throw bad("choices[\(i)] must be a non-empty string") }
            return s
        }
        let answer: Int
        switch node["answer"] {
        case .string(let s)?:
            guard let i = choices.firstIndex(of: s) else { throw bad("answer \"\(s)\" is not one of the choices") }
            answer = i
        case let v?:
            guard let i = v.nonNegativeInt, i < choices.count else {
                throw bad("\"answer\" must be an index below \(choices.count) or one of the choices")
            }
            answer = i
        case nil:
            throw bad("missing \"answer\"")
        }
        return ChoiceQuestion(prompt: prompt, choices: choices, answer: answer, line: line)
    }
}
