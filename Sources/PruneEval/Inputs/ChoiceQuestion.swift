/// One multiple-choice question: a prompt, its choices, and the index of the right one.
package struct ChoiceQuestion: Sendable, Equatable {
    package var prompt: String
    package var choices: [String]
    package var answer: Int
    /// The 1-based line of the task file.
    package var line: Int

    package init(prompt: String, choices: [String], answer: Int, line: Int = 0) {
        self.prompt = prompt
        self.choices = choices
        self.answer = answer
        self.line = line
    }
}
