import Foundation

/// Prompts prune-generate cannot complete. Each message is one line naming the model and the prompt.
enum GenerateError: LocalizedError, Equatable {
    case emptyPrompt(model: String, prompt: Int)
    case promptTooLong(model: String, prompt: Int, tokens: Int, context: Int)
    case nonFiniteLogits(model: String, prompt: Int, position: Int)

    var errorDescription: String? {
        switch self {
        case .emptyPrompt(let m, let p):
            return "\(m): prompt \(p) gives no tokens (prompt \(p))"
        case .promptTooLong(let m, let p, let n, let c):
            return "\(m): prompt \(p) has \(n) tokens, more than the model's context of \(c) (prompt \(p))"
        case .nonFiniteLogits(let m, let p, let t):
            return "\(m): the model's logits are not finite (NaN or infinity) (prompt \(p), position \(t))"
        }
    }
}
