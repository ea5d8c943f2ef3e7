import Foundation
import Testing
@testable import PruneEval
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// `prune-eval --choose`: the rule on rows given by hand, and on a short experiment on a fixture.
@Suite("EvalChoose") struct EvalChooseTests {
    static func row(_ arm: String, edits: Int, efficacy: Double, paraphrase: Double, ppl: Double, acc: [Double]) -> ExperimentRow {
        var r = ExperimentRow(arm: arm, edits: edits)
        r.efficacySuccess = efficacy
        r.paraphraseSuccess = paraphrase
        r.neighborhoodSuccess = 1
        r.perplexity = ppl
        r.tasks = acc.enumerated().map { ExperimentRow.Task(file: "t\($0.offset).jsonl", accuracy: $0.element, accuracyNorm: $0.element) }
        return r
    }

    static let arms = try! ExperimentArm.parseList("none,log:e,linear,log:2")
    static let rows = [
        row("base", edits: 0, efficacy: 0, paraphrase: 0, ppl: 100, acc: [0.80, 0.50]),
        row("none", edits: 4, efficacy: 1.00, paraphrase: 0.9, ppl: 110, acc: [0.70, 0.50]),   // +10 %, −10 points
        row("log:e", edits: 4, efficacy: 0.50, paraphrase: 0.5, ppl: 102, acc: [0.79, 0.50]),  // +2 %, −1 point
        row("linear", edits: 4, efficacy: 0.75, paraphrase: 0.5, ppl: 104.5, acc: [0.80, 0.485]), // +4.5 %, −1.5 points (second task)
        row("log:2", edits: 4, efficacy: 0.75, paraphrase: 0.6, ppl: 104, acc: [0.80, 0.47]),  // +4 %, −3 points (second task)
    ]

    @Test("the largest efficacy within the limits; the worst task counts; ties go to paraphrase")
    func rule() throws {
        let o = try RestraintChoice().choose(rows: Self.rows, arms: Self.arms, edits: 4)
        // none breaks both limits, log:2 the accuracy one (−3 points on the second task): linear
        // (0.75) beats log:e (0.50).
        #expect(o.chosen.arm.name == "linear")
        #expect(o.candidates.map(\.failed) == [["perplexity +10.0 % > 5 %", "accuracy −10.0 points > 2"], [], [],
                                               ["accuracy −3.0 points > 2"]])
        // With 3.5 points allowed, log:2 ties linear on efficacy and wins on paraphrase.
        #expect(try RestraintChoice(maxAccuracyDrop: 3.5).choose(rows: Self.rows, arms: Self.arms, edits: 4).chosen.arm.name == "log:2")
        // The table shows the rule, every arm, its verdict.
        let table = RestraintChoice().table(o)
        #expect(table.hasPrefix("rule: the largest efficacy at 4 edits with perplexity rising ≤ 5 % and task accuracy falling ≤ 2 points"))
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("linear ") && $0.hasSuffix("chosen") })
        #expect(lines.contains { $0.hasPrefix("log:e ") && $0.hasSuffix("keeps the rule") })
        #expect(lines.contains { $0.hasPrefix("none ") && $0.contains("+10.00 %") && $0.hasSuffix("perplexity +10.0 % > 5 %, accuracy −10.0 points > 2") })
        // The file prune-apply reads.
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RestraintChoice().fileText(o, requests: "r.json", base: "m").write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let back = try RestraintFile.read(path: dir + "/c.json")
        #expect(back.function == .linear && back.schedule == .end)
    }

    @Test("a grid that cannot keep the rule is an error naming each arm and the limit it breaks")
    func unsatisfiable() throws {
        do {
            _ = try RestraintChoice(maxPerplexityRise: 1, maxAccuracyDrop: 2).choose(rows: Self.rows, arms: Self.arms, edits: 4)
            Issue.record("chose an arm that breaks the rule")
        } catch let e as EvalError {
            #expect(e.errorDescription == "--choose: no arm of the grid keeps the rule at 4 edits (none: perplexity +10.0 % > 1 %, accuracy −10.0 points > 2; log:e: perplexity +2.0 % > 1 %; linear: perplexity +4.5 % > 1 %; log:2: perplexity +4.0 % > 1 %, accuracy −3.0 points > 2); widen --max-ppl-rise or --max-acc-drop, or add arms to --compare")
        }
    }

    @Test("on gpt2-tiny (2 edits, 2 arms) the choice is the rows' best arm within the limits, and prune-apply applies it")
    func fixture() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = try EvalSequentialRunTests.options(dir)
        o.keep = nil
        o.output = nil
        o.plot = nil
        o.checkpoints = [2]
        o.perplexityDocuments = 20
        o.arms = try ExperimentArm.parseList("none,linear")
        let limits = (ppl: 1.0, acc: 20.0)
        let choice = dir + "/restraint.json"
        let outcome = try RestraintChooser(options: o, rule: RestraintChoice(maxPerplexityRise: limits.ppl, maxAccuracyDrop: limits.acc),
                                           choice: choice).run()
        // The rule applied by hand to the rows file.
        let lines = try String(contentsOfFile: o.rows, encoding: .utf8).split(separator: "\n").dropFirst()
        let rows = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let base = try #require(rows.first { $0["arm"] as? String == "base" })
        let basePPL = base["perplexity"] as! Double
        let baseAcc = (base["tasks"] as! [[String: Any]]).map { $0["accuracy"] as! Double }
        var best: (arm: String, efficacy: Double, paraphrase: Double, ppl: Double)?
        for arm in ["none", "linear"] {
            let r = try #require(rows.first { $0["arm"] as? String == arm && $0["edits"] as? Int == 2 })
            let ppl = r["perplexity"] as! Double
            let acc = (r["tasks"] as! [[String: Any]]).map { $0["accuracy"] as! Double }
            let drop = zip(baseAcc, acc).map { ($0 - $1) * 100 }.max()!
            guard (ppl - basePPL) / basePPL * 100 <= limits.ppl, drop <= limits.acc else { continue }
            let e = r["efficacy_success"] as! Double, p = r["paraphrase_success"] as! Double
            if best == nil || e > best!.efficacy || (e == best!.efficacy && (p > best!.paraphrase || (p == best!.paraphrase && ppl < best!.ppl))) {
                best = (arm, e, p, ppl)
            }
        }
        let expected = try #require(best, "no arm within the limits on the fixture: \(rows)")
        #expect(outcome.chosen.arm.name == expected.arm)
        let file = try RestraintFile.read(path: choice)
        #expect(ExperimentArm(function: file.function, schedule: file.schedule).name == expected.arm)

        // prune-apply takes the file: the sidecar records the chosen restraint.
        let manifest = dir + "/manifest.jsonl"
        try (String(contentsOfFile: o.stateFolder + "/manifest.jsonl", encoding: .utf8)).write(toFile: manifest, atomically: true, encoding: .utf8)
        let model = ReportTest.fixtures + "/gpt2-tiny/model.safetensors"
        let r = try ReportTest.run(try ReportTest.binary("prune-apply"),
                                   [model, manifest, "--restraint-file", choice, "-o", dir + "/out.safetensors", "--no-compress",
                                    "--hparams", o.hparams!, "--stats-text", o.statsText!],
                                   environment: ProcessInfo.processInfo.environment.merging(["PRUNE_CACHE": dir + "/cache"]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        let sidecar = try Sidecar.read(path: dir + "/manifest.prune")
        #expect(sidecar.parameters.restraint == (expected.arm == "none" ? "none" : "linear") && sidecar.parameters.schedule == "end")
    }

    @Test("usage errors of --choose", arguments: [
        (["--choose", "r.json"], "--choose needs --perplexity"),
        (["--choose", "r.json", "--perplexity", "t.txt", "--keep", "none", "-o", "x.gguf"], "--keep does not go with --choose"),
        (["--choose", "r.json", "--perplexity", "t.txt", "--checkpoints", "5"], "--checkpoints does not go with --choose"),
        (["--choose", "r.json", "--perplexity", "t.txt", "--sequential", "r.json"], "--choose does not go with --sequential"),
        (["--choose", "r.json", "--perplexity", "t.txt", "--max-ppl-rise", "nan"], "--max-ppl-rise must be a number ≥ 0"),
        (["--requests", "r.json", "--sample", "5"], "--sample goes with --choose"),
        (["--requests", "r.json", "--choice", "c.json"], "--choice goes with --choose"),
    ])
    func usage(args: [String], message: String) throws {
        let r = try ReportTest.run(try ReportTest.binary("prune-eval"), [ReportTest.fixtures + "/gpt2-tiny"] + args)
        #expect(r.status == 64 && r.stderr.contains(message), "\(r.stderr)")
    }
}
