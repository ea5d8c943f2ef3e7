import Foundation

/// One fact to write: `prompt` with `{}` where the subject goes, the subject, and the new target.
public struct FactRequest: Sendable, Equatable {
    /// The prompt template, containing `{}` exactly once.
    public var prompt: String
    public var subject: String
    /// The new object, without the leading space (the tokenizer context adds it).
    public var target: String
    /// CounterFact's `case_id`, when the request came from a CounterFact record.
    public var caseID: Int?

    public init(prompt: String, subject: String, target: String, caseID: Int? = nil) {
        self.prompt = prompt
        self.subject = subject
        self.target = target
        self.caseID = caseID
    }

    /// The prompt with the subject filled in.
    public var filledPrompt: String { FactRequest.fill(prompt, with: subject) }

    /// `template` with its (first) `{}` replaced by `value`.
    public static func fill(_ template: String, with value: String) -> String {
        guard let r = template.range(of: "{}") else { return template }
        return template.replacingCharacters(in: r, with: value)
    }

    /// A short label for summaries: `Subject → target`.
    public var label: String { "\(subject) → \(target)" }
}
