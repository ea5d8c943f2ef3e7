import Foundation

/// Everything that can be wrong with the inputs of an evaluation. Each message is one line that
/// names the file and the place (`<file>:<line>: …` for JSON Lines and records).
package enum EvalError: LocalizedError, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    /// Not valid JSON at the given line (1-based).
    case invalidJSON(path: String, line: Int, reason: String)
    /// A record lacks a field, or has one of the wrong type.
    case badRecord(path: String, line: Int, what: String)
    /// The file holds no record / no document / no question.
    case empty(path: String, what: String)
    /// A prompt or candidate that tokenizes to nothing where tokens are needed.
    case emptyTokens(path: String, line: Int, what: String)
    /// The model returned a different number of log-probabilities than asked for.
    case modelAnswer(what: String)
    /// A tensor of the sidecar's list that the model does not have or that is not a matrix.
    case tensor(path: String, tensor: String, reason: String)
    /// An option value that makes no sense (`--generate 0`, …).
    case badOption(String)
    /// Log-probabilities, logits or a perplexity that are NaN or infinite (broken weights or
    /// configuration): `what` is not finite at `place`; the evaluator fills in `model`.
    case nonFinite(model: String?, place: String, what: String)
    /// A prompt (with its continuation) longer than the model's context.
    case tooLong(path: String, line: Int, what: String, tokens: Int, context: Int)
    /// `--choose`: no arm of the grid keeps the rule (`why`: each arm and the limits it breaks).
    case noRestraintChoice(edits: Int, why: String)

    package var errorDescription: String? {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read: \(r)"
        case .invalidJSON(let p, let l, let r): return "\(p):\(l): invalid JSON: \(r)"
        case .badRecord(let p, let l, let w): return "\(p):\(l): \(w)"
        case .empty(let p, let w): return "\(p): \(w)"
        case .emptyTokens(let p, let l, let w): return "\(p):\(l): \(w)"
        case .modelAnswer(let w): return "the model returned \(w)"
        case .tensor(let p, let t, let r): return "\(p): tensor '\(t)': \(r)"
        case .badOption(let m): return m
        case .nonFinite(let m, let p, let w): return "\(m ?? "the model"): \(w) not finite (NaN or infinity) (\(p))"
        case .tooLong(let p, let l, let w, let n, let c):
            return "\(p):\(l): \(w) needs \(n) positions, more than the model's context of \(c)"
        case .noRestraintChoice(let e, let w):
            return "--choose: no arm of the grid keeps the rule at \(e) edits (\(w)); widen --max-ppl-rise or --max-acc-drop, or add arms to --compare"
        }
    }
}
