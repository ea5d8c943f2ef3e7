import Foundation

/// The scores (mean negative log-probability per token) of the new and the true target after one prompt.
package struct PromptScores: Sendable, Equatable {
    package var prompt: String
    package var new: Double
    package var `true`: Double

    package init(prompt: String, new: Double, true t: Double) {
        self.prompt = prompt
        self.new = new
        self.true = t
    }

    /// The new target is more probable than the true one (ROME: `target_true > target_new`).
    package var prefersNew: Bool { self.true > new }
    /// The true target is more probable than the new one (ROME's neighborhood test).
    package var prefersTrue: Bool { self.true < new }
    /// exp(−new) − exp(−true): how much more probable the new target is (ROME's `*_diff`).
    package var newMargin: Double { exp(-new) - exp(-self.true) }
}
