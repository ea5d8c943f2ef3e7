/// One CounterFact-style request as the evaluation reads it: the rewrite (prompt with `{}`,
/// subject, new and true targets) and the prompts that test it.
package struct CounterFactRecord: Sendable, Equatable {
    /// CounterFact's `case_id`, or the record's index in the file when it has none.
    package var caseID: Int
    /// The prompt template, containing `{}` where the subject goes.
    package var prompt: String
    package var subject: String
    package var targetNew: String
    package var targetTrue: String
    package var paraphrasePrompts: [String]
    package var neighborhoodPrompts: [String]
    /// CounterFact's `generation_prompts` (used by `--generate`; may be empty).
    package var generationPrompts: [String]
    /// The 1-based line of the file the record starts on.
    package var line: Int

    package init(caseID: Int, prompt: String, subject: String, targetNew: String, targetTrue: String,
                 paraphrasePrompts: [String] = [], neighborhoodPrompts: [String] = [],
                 generationPrompts: [String] = [], line: Int = 0) {
        self.caseID = caseID
        self.prompt = prompt
        self.subject = subject
        self.targetNew = targetNew
        self.targetTrue = targetTrue
        self.paraphrasePrompts = paraphrasePrompts
        self.neighborhoodPrompts = neighborhoodPrompts
        self.generationPrompts = generationPrompts
        self.line = line
    }

    /// The rewrite prompt with the subject filled in (the first `{}` replaced).
    package var rewritePrompt: String {
        guard let r = prompt.range(of: "{}") else { return prompt }
        return prompt.replacingCharacters(in: r, with: subject)
    }
}
