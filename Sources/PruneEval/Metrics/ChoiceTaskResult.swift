/// Accuracy on one multiple-choice task file, as lm-evaluation-harness reports it: `acc` picks the
/// choice with the largest log-likelihood, `acc_norm` the largest log-likelihood per character of the
/// choice (ties go to the first).
package struct ChoiceTaskResult: Sendable, Equatable {
    package var path: String
    package var questions: Int
    package var correct: Int
    package var correctNormalized: Int
    /// The choice picked for each question (by log-likelihood), in file order.
    package var picks: [Int]
    /// The choice picked for each question by log-likelihood per character.
    package var picksNormalized: [Int]

    package init(path: String, questions: Int, correct: Int, correctNormalized: Int, picks: [Int], picksNormalized: [Int]) {
        self.path = path
        self.questions = questions
        self.correct = correct
        self.correctNormalized = correctNormalized
        self.picks = picks
        self.picksNormalized = picksNormalized
    }

    package var accuracy: Double { questions > 0 ? Double(correct) / Double(questions) : .nan }
    package var accuracyNormalized: Double { questions > 0 ? Double(correctNormalized) / Double(questions) : .nan }
}
