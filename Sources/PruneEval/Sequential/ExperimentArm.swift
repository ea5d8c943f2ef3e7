import Foundation
import PruneKit

/// One arm of the sequential experiment: how the accumulated delta is restrained.
///
/// Spelled `[end:|each:]FUNCTION`: `none` (regular editing), `log:e`, `log:2`, `log:ALPHA`
/// (`log` alone is log:e), `linear`; the schedule defaults to `end` (edits computed on the
/// unrestrained model, the accumulated delta restrained at the checkpoint, as PRUNE's code does);
/// `each` restrains after every edit and computes the next edit on the restrained model.
package struct ExperimentArm: Sendable, Equatable, Hashable {
    package var function: RestraintFunction
    package var schedule: RestraintSchedule

    package init(function: RestraintFunction, schedule: RestraintSchedule = .end) {
        self.function = function
        self.schedule = function == .none ? .end : schedule
    }

    package init(parsing text: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        var schedule = RestraintSchedule.end
        if rest.hasPrefix("each:") { schedule = .each; rest = rest.dropFirst(5) }
        else if rest.hasPrefix("end:") { rest = rest.dropFirst(4) }
        guard !rest.isEmpty, let f = try? RestraintFunction(name: String(rest)) else {
            throw EvalError.badOption("--compare: unknown arm \"\(text)\" (none, log:e, log:2, log:ALPHA, linear, each:…)")
        }
        self.init(function: f, schedule: schedule)
    }

    /// The canonical spelling: `none`, `log:e`, `log:2`, `linear`, `each:log:e`, …
    package var name: String {
        let f: String
        switch function {
        case .none: return "none"
        case .linear: f = "linear"
        case .log(let base):
            if base == M_E { f = "log:e" }
            else if base == base.rounded(), abs(base) < 1e15 { f = "log:\(Int(base))" }
            else { f = "log:\(base)" }
        }
        return schedule == .each ? "each:" + f : f
    }

    package var configuration: RestraintConfiguration {
        RestraintConfiguration(function: function, schedule: schedule)
    }

    /// Arms whose edits are computed on the same model share a chain: every `end` arm edits the
    /// unrestrained model; each `each` arm has its own.
    package var chain: String { schedule == .end ? "end" : name }

    package static func parseList(_ text: String) throws -> [ExperimentArm] {
        var out: [ExperimentArm] = []
        for part in text.split(separator: ",") {
            let arm = try ExperimentArm(parsing: String(part))
            if !out.contains(arm) { out.append(arm) }
        }
        guard !out.isEmpty else { throw EvalError.badOption("--compare needs at least one arm") }
        return out
    }
}
