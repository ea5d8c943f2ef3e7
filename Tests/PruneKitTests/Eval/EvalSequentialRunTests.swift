import Foundation
import Testing
@testable import PruneEval
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

@Suite("EvalSequentialRun") struct EvalSequentialRunTests {
    /// A small experiment on gpt2-tiny: 4 ROME edits, checkpoints 2 and 4, arms none, log:e and
    /// each:log:e, the log:e arm kept.
    static func options(_ dir: String) throws -> SequentialOptions {
        let fixture = ReportTest.fixtures + "/gpt2-tiny"
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try ReportTest.fixture("gpt2-tiny", "requests.json")))) as! [Any]
        let requests = dir + "/requests.json"
        try JSONSerialization.data(withJSONObject: Array(all.prefix(4))).write(to: URL(fileURLWithPath: requests))
        var o = SequentialOptions(base: fixture, requests: requests)
        o.checkpoints = [2, 4]
        o.arms = try ExperimentArm.parseList("none,log:e,each:log:e")
        o.perplexity = fixture + "/heldout.txt"
        o.perplexityDocuments = 40
        o.tasks = [ReportTest.packageRoot.appendingPathComponent("samples/tasks/gpt2-tiny-facts.jsonl").path]
        o.hparams = ReportTest.packageRoot.appendingPathComponent("samples/hparams/rome-gpt2-tiny.json").path
        o.statsText = fixture + "/heldout.txt"
        o.rows = dir + "/rows.jsonl"
        o.plot = dir + "/curves.svg"
        o.keep = try ExperimentArm(parsing: "log:e")
        o.output = dir + "/kept/model.safetensors"
        o.threads = 2
        o.statisticsCache = StatisticsCache(folder: dir + "/cache")
        try FileManager.default.createDirectory(atPath: dir + "/kept", withIntermediateDirectories: true)
        for f in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.createSymbolicLink(atPath: dir + "/kept/" + f, withDestinationPath: fixture + "/" + f)
        }
        return o
    }

    @Test("--resume refuses an experiment whose hparams (or another input) changed in place, naming the file")
    func resumeAfterAnInputChanged() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = try Self.options(dir)
        o.checkpoints = [1]
        o.arms = try ExperimentArm.parseList("none")
        o.tasks = []
        o.perplexityDocuments = 4
        o.keep = nil
        o.output = nil
        o.plot = nil
        let hparams = dir + "/hparams.json"
        try FileManager.default.copyItem(atPath: o.hparams!, toPath: hparams)
        o.hparams = hparams
        _ = try SequentialExperiment(options: o).run()
        var r = o
        r.resume = true
        // Unchanged inputs: the run resumes (every row is there).
        #expect(try SequentialExperiment(options: r).run().rows.count == 2)
        // The same path, other contents.
        let text = try String(contentsOfFile: hparams, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"v_num_grad_steps\": 40", with: "\"v_num_grad_steps\": 4")
        #expect(edited != text)
        try edited.write(toFile: hparams, atomically: false, encoding: .utf8)
        do {
            _ = try SequentialExperiment(options: r).run()
            Issue.record("resumed with a changed hparams file")
        } catch {
            let m = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            #expect(m == "\(o.rows):1: \(hparams) changed since this experiment began (its SHA-256 differs); remove the rows file or use another --rows", "\(m)")
        }
    }

    static func withoutSeconds(_ rows: [ExperimentRow]) -> [ExperimentRow] {
        rows.map { var r = $0; r.seconds = 0; return r }
    }

    @Test("rows per checkpoint and arm; the kept model is the measured one; resume after an interruption gives the same rows")
    func smallExperiment() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = try Self.options(dir)
        let result = try SequentialExperiment(options: o).run()
        #expect(result.rows.map { "\($0.arm)@\($0.edits)" } ==
                ["base@0", "none@2", "log:e@2", "each:log:e@2", "none@4", "log:e@4", "each:log:e@4"])
        // Two chains: the end arms share one.
        #expect(result.chains.map(\.chain) == ["end", "each:log:e"])
        #expect(result.chains.allSatisfy { !$0.reused && $0.edits == 4 })

        let base = result.rows[0]
        let none4 = result.rows[4], log4 = result.rows[5]
        let t0 = try #require(base.tensors.first)
        #expect(t0.tensor == "transformer.h.1.mlp.c_proj.weight")
        // Regular editing: the raw delta, nothing restrained; κ grows.
        let tn = try #require(none4.tensors.first)
        #expect(tn.restrained == 0 && tn.deltaBefore == tn.deltaAfter)
        #expect(tn.kappa > t0.kappa)
        // log:e restrains the singular values above σmax(W₀) to log(σ/σmax) + σmax.
        let tl = try #require(log4.tensors.first)
        #expect(tl.deltaBefore == tn.deltaBefore)   // the same chain of edits
        let s = tl.sigmaMaxW0
        for (b, a) in zip(tl.deltaBefore, tl.deltaAfter) where b >= s {
            #expect(abs(a - (log(b / s) + s)) < 1e-6 * a)
        }
        #expect(tl.sigmaMax < tn.sigmaMax)

        // The kept arm is an ordinary artifact, and its model measures exactly as the row says.
        let sidecar = try Sidecar.read(path: dir + "/kept/model.prune")
        #expect(sidecar.parameters.restraint == "log" && sidecar.parameters.schedule == "end")
        #expect(sidecar.edits.count == 4 && sidecar.edits.allSatisfy { $0.kind == "rome" })
        let manifest = try Data(contentsOf: URL(fileURLWithPath: dir + "/kept/model.jsonl"))
        #expect(sidecar.manifests.first?.bytes == [UInt8](manifest))
        var options = EvaluationOptions()
        options.requests = o.requests
        options.perplexity = o.perplexity
        options.perplexityDocuments = o.perplexityDocuments
        options.tasks = o.tasks
        let kept = try EvaluationModelLoader.load(dir + "/kept", threads: 2)
        let e = try Evaluator(inputs: try EvaluationInputs.load(options)).evaluate(kept, name: "kept")
        var again = ExperimentRow(arm: "log:e", edits: 4)
        again.take(e)
        // (GPT-2's Conv1D weights are read transposed from the file and set in [out, in] order in
        // memory: the same values through two kernels, equal up to summation order.)
        #expect(abs(again.perplexity! - log4.perplexity!) < 1e-6 * log4.perplexity!)
        #expect(again.tasks == log4.tasks)
        #expect(again.efficacySuccess == log4.efficacySuccess && again.neighborhoodMagnitude == log4.neighborhoodMagnitude)

        // The plot is there; the rows file has the header and the seven rows.
        #expect(FileManager.default.fileExists(atPath: o.plot!))
        #expect(try String(contentsOfFile: o.rows, encoding: .utf8).split(separator: "\n").count == 8)

        // Interrupted after three rows (and in the middle of the fourth): resume measures the rest,
        // reusing both chains, and gives the same rows.
        let lines = try String(contentsOfFile: o.rows, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        try (lines.prefix(4).joined(separator: "\n") + "\n" + lines[4].prefix(30)).write(toFile: o.rows, atomically: true, encoding: .utf8)
        var r = o
        r.resume = true
        let resumed = try SequentialExperiment(options: r).run()
        #expect(resumed.chains.allSatisfy { $0.reused })
        #expect(Self.withoutSeconds(resumed.rows) == Self.withoutSeconds(result.rows))
        // Without --resume an existing rows file is refused.
        #expect(throws: EvalError.self) { try SequentialExperiment(options: o).run() }
    }
}
