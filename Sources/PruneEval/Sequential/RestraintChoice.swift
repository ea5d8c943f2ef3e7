import Foundation
import PruneFormats
import PruneKit

/// `prune-eval BASE --choose REQUESTS`: the restraint for the user's model, chosen by measurement.
///
/// A short sequential experiment (`SequentialExperiment`, one checkpoint: the first `sample`
/// requests, every arm of the grid) measures each arm; the rule keeps the arms whose perplexity
/// rises by at most `maxPerplexityRise` percent and whose accuracy on every task falls by at most
/// `maxAccuracyDrop` points (hundredths) against the base, and picks among them the largest efficacy
/// (ties: the larger paraphrase success, then the lower perplexity, then the grid's order).
package struct RestraintChoice {
    package var maxPerplexityRise: Double = 5
    package var maxAccuracyDrop: Double = 2

    package init(maxPerplexityRise: Double = 5, maxAccuracyDrop: Double = 2) {
        self.maxPerplexityRise = maxPerplexityRise
        self.maxAccuracyDrop = maxAccuracyDrop
    }

    /// One arm of the grid against the rule.
    package struct Candidate: Sendable, Equatable {
        package var arm: ExperimentArm
        package var row: ExperimentRow
        /// Perplexity against the base's, in percent (positive: a rise).
        package var perplexityRise: Double
        /// The largest fall of accuracy over the task files, in points (nil: no task).
        package var accuracyDrop: Double?
        /// The limits this arm breaks, in words (empty: it keeps the rule).
        package var failed: [String]
    }

    package struct Outcome: Sendable {
        package var base: ExperimentRow
        package var candidates: [Candidate]
        package var chosen: Candidate
        package var edits: Int
    }

    /// Applies the rule to the rows of an experiment (the base row and every arm at `edits`).
    package func choose(rows: [ExperimentRow], arms: [ExperimentArm], edits: Int) throws -> Outcome {
        guard let base = rows.first(where: { $0.arm == "base" }) else { throw EvalError.badOption("--choose: no base row was measured") }
        guard let basePPL = base.perplexity else { throw EvalError.badOption("--choose needs --perplexity (the rule bounds its rise)") }
        var candidates: [Candidate] = []
        for arm in arms {
            guard let row = rows.first(where: { $0.arm == arm.name && $0.edits == edits }) else {
                throw EvalError.badOption("--choose: arm \(arm.name) was not measured at \(edits) edits")
            }
            guard let ppl = row.perplexity else { throw EvalError.badOption("--choose: arm \(arm.name) has no perplexity") }
            let rise = (ppl - basePPL) / basePPL * 100
            var drop: Double?
            for (i, t) in row.tasks.enumerated() where i < base.tasks.count {
                let d = (base.tasks[i].accuracy - t.accuracy) * 100
                drop = max(drop ?? d, d)
            }
            var failed: [String] = []
            if !(rise <= maxPerplexityRise) {
                failed.append("perplexity " + Self.signed(rise, "%.1f") + " % > " + Self.plain(maxPerplexityRise) + " %")
            }
            if let drop, !(drop <= maxAccuracyDrop) {
                failed.append("accuracy −" + String(format: "%.1f", drop) + " points > " + Self.plain(maxAccuracyDrop))
            }
            candidates.append(Candidate(arm: arm, row: row, perplexityRise: rise, accuracyDrop: drop, failed: failed))
        }
        let passing = candidates.filter { $0.failed.isEmpty }
        guard var best = passing.first else {
            let why = candidates.map { "\($0.arm.name): \($0.failed.joined(separator: ", "))" }.joined(separator: "; ")
            throw EvalError.noRestraintChoice(edits: edits, why: why)
        }
        for c in passing.dropFirst() {
            let (e, be) = (c.row.efficacySuccess ?? 0, best.row.efficacySuccess ?? 0)
            let (p, bp) = (c.row.paraphraseSuccess ?? 0, best.row.paraphraseSuccess ?? 0)
            if e > be || (e == be && (p > bp || (p == bp && c.perplexityRise < best.perplexityRise))) { best = c }
        }
        return Outcome(base: base, candidates: candidates, chosen: best, edits: edits)
    }

    static func signed(_ v: Double, _ format: String) -> String { (v >= 0 ? "+" : "") + String(format: format, v) }
    static func plain(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)" }

    /// The table behind the choice: one line per arm, the rule's quantities and verdict.
    package func table(_ o: Outcome) -> String {
        func f3(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
        var table = [["arm", "efficacy", "paraphrase", "neighborhood", "perplexity", "Δppl", "Δacc (points)", "verdict"]]
        table.append(["base", f3(o.base.efficacySuccess), f3(o.base.paraphraseSuccess), f3(o.base.neighborhoodSuccess),
                      o.base.perplexity.map { String(format: "%.2f", $0) } ?? "-", "", "", ""])
        for c in o.candidates {
            let verdict = c.arm == o.chosen.arm ? "chosen" : c.failed.isEmpty ? "keeps the rule" : c.failed.joined(separator: ", ")
            table.append([c.arm.name, f3(c.row.efficacySuccess), f3(c.row.paraphraseSuccess), f3(c.row.neighborhoodSuccess),
                          c.row.perplexity.map { String(format: "%.2f", $0) } ?? "-", Self.signed(c.perplexityRise, "%.2f") + " %",
                          c.accuracyDrop.map { Self.signed(-$0, "%.1f") } ?? "-", verdict])
        }
        let rule = "rule: the largest efficacy at \(o.edits) edits with perplexity rising ≤ \(Self.plain(maxPerplexityRise)) % "
            + "and task accuracy falling ≤ \(Self.plain(maxAccuracyDrop)) points against the base\n"
        return rule + EvaluationReport.table(table, left: 1)
    }

    /// The choice as a restraint file (`prune-apply --restraint-file`), with the evidence.
    package func fileText(_ o: Outcome, requests: String, base: String) -> String {
        func m(_ k: String, _ v: JSONNode) -> JSONNodeMember { .init(key: k, value: v) }
        func n(_ v: Double?) -> JSONNode { v.map { JSONNode.double($0) } ?? .null }
        var members = RestraintFile.members(function: o.chosen.arm.function, schedule: o.chosen.arm.schedule)
        members.append(m("chosen_by", .object([
            m("tool", .string("prune-eval --choose")), m("base", .string(base)), m("requests", .string(requests)),
            m("edits", .int(o.edits)), m("max_perplexity_rise_percent", .double(maxPerplexityRise)),
            m("max_accuracy_drop_points", .double(maxAccuracyDrop)),
            m("base_perplexity", n(o.base.perplexity)),
            m("arms", .array(o.candidates.map { c in
                .object([m("arm", .string(c.arm.name)), m("efficacy", n(c.row.efficacySuccess)),
                         m("paraphrase", n(c.row.paraphraseSuccess)), m("neighborhood", n(c.row.neighborhoodSuccess)),
                         m("perplexity", n(c.row.perplexity)), m("perplexity_rise_percent", .double(c.perplexityRise)),
                         m("accuracy_drop_points", n(c.accuracyDrop)),
                         m("failed", .array(c.failed.map { .string($0) })), m("chosen", .bool(c.arm == o.chosen.arm))])
            })),
        ])))
        return JSONNode.object(members).serialized(pretty: true) + "\n"
    }
}

/// Runs `--choose`: the sequential experiment at one checkpoint (the first `sample` requests, the
/// grid's arms), the rule on its rows, and the choice written to `choice` (temporary file, then
/// rename). The rows stay in `--rows`: `--resume` with other limits chooses again without editing.
package struct RestraintChooser {
    package var options: SequentialOptions
    package var rule: RestraintChoice
    package var progress: @Sendable (String) -> Void = { _ in }
    package var log: (String) -> Void = { _ in }

    /// `options.checkpoints` holds the sample size (one checkpoint); `choice` is the file written.
    package init(options: SequentialOptions, rule: RestraintChoice, choice: String) {
        self.options = options
        self.options.choice = choice
        self.rule = rule
    }

    package func run() throws -> RestraintChoice.Outcome {
        guard options.checkpoints.count == 1, let sample = options.checkpoints.first else {
            throw EvalError.badOption("--choose measures at one number of edits (--sample)")
        }
        let count = try CounterFactReader.read(options.requests).count
        guard sample <= count else {
            throw EvalError.badOption("--sample: \(sample) requests, but \(options.requests) has \(count)")
        }
        var experiment = SequentialExperiment(options: options)
        experiment.progress = progress
        experiment.log = log
        let result = try experiment.run()
        let outcome = try rule.choose(rows: result.rows, arms: result.arms, edits: sample)
        try TemporaryFiles.guarded {
            try AtomicText.write(rule.fileText(outcome, requests: options.requests, base: options.base), to: options.choice!)
        }
        return outcome
    }
}
