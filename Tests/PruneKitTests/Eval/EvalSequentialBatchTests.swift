import Foundation
import Testing
@testable import PruneEval
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

@Suite("EvalSequentialBatch") struct EvalSequentialBatchTests {
    /// Counts the fact engine's progress lines (called from the experiment's thread).
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    /// MEMIT and AlphaEdit batches in the experiment, end to end on gpt2-tiny: 10 requests in
    /// batches of 5, arms none and linear. The end arms share one chain: every request's target is
    /// computed once, not once per arm.
    @Test("memit and alphaedit: batches of requests, end arms share one computed chain", arguments: [FactMethod.memit, .alphaedit])
    func batches(_ method: FactMethod) throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = ReportTest.fixtures + "/gpt2-tiny"
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try ReportTest.fixture("gpt2-tiny", "requests.json")))) as! [Any]
        let requests = dir + "/requests.json"
        try JSONSerialization.data(withJSONObject: Array(all.prefix(10))).write(to: URL(fileURLWithPath: requests))
        // The samples' ROME settings of gpt2-tiny (layer 1), with MEMIT's covariance weight scaled
        // down to the tiny model (the gpt2-xl value 20000 leaves the edits without effect here).
        let rome = try JSONSerialization.jsonObject(with: Data(contentsOf: ReportTest.packageRoot
            .appendingPathComponent("samples/hparams/rome-gpt2-tiny.json"))) as! [String: Any]
        var h = rome
        h["mom2_update_weight"] = 2000
        h["v_num_grad_steps"] = 20
        try JSONSerialization.data(withJSONObject: h).write(to: URL(fileURLWithPath: dir + "/hparams.json"))

        var o = SequentialOptions(base: fixture, requests: requests)
        o.method = method
        o.batch = 5
        o.checkpoints = [5, 10]
        o.arms = try ExperimentArm.parseList("none,linear")
        o.perplexity = fixture + "/heldout.txt"
        o.perplexityDocuments = 10
        o.hparams = dir + "/hparams.json"
        o.statsText = fixture + "/heldout.txt"
        o.rows = dir + "/rows.jsonl"
        o.threads = 2
        o.statisticsCache = StatisticsCache(folder: dir + "/cache")
        var experiment = SequentialExperiment(options: o)
        let lines = Lines()
        experiment.progress = { lines.add($0) }
        let result = try experiment.run()

        #expect(result.rows.map { "\($0.arm)@\($0.edits)" } == ["base@0", "none@5", "linear@5", "none@10", "linear@10"])
        // One chain of two batches, computed once for both arms: one target per request.
        #expect(result.chains.map(\.chain) == ["end"])
        #expect(result.chains.allSatisfy { !$0.reused && $0.edits == 10 })
        let targets = lines.all.filter { $0.hasPrefix("\(method.rawValue) z for ") }
        #expect(targets.count == 10, "\(targets)")
        let manifest = try String(contentsOfFile: o.stateFolder + "/manifest.jsonl", encoding: .utf8)
        #expect(manifest.split(separator: "\n").count == 2 && manifest.hasPrefix("{\"kind\":\"\(method.rawValue)\""))

        let base = result.rows[0], none5 = result.rows[1], none10 = result.rows[3], linear10 = result.rows[4]
        let t0 = try #require(base.tensors.first)
        #expect(t0.tensor == "transformer.h.1.mlp.c_proj.weight")
        // The second batch adds to the first: the accumulated raw delta grows.
        let n5 = try #require(none5.tensors.first), n10 = try #require(none10.tensors.first)
        #expect(n10.deltaBefore[0] != n5.deltaBefore[0] && n10.deltaBefore.count == 5)
        #expect(n10.restrained == 0 && n10.deltaBefore == n10.deltaAfter)
        // linear: σ ≥ σmax(W₀) → (σ + σmax)/2 on the same chain's delta.
        let l10 = try #require(linear10.tensors.first)
        #expect(l10.deltaBefore == n10.deltaBefore)
        let s = l10.sigmaMaxW0
        for (b, a) in zip(l10.deltaBefore, l10.deltaAfter) {
            if b >= s { #expect(abs(a - (b + s) / 2) < 1e-6 * a) } else { #expect(abs(a - b) < 1e-6 * max(b, 1e-12)) }
        }
        // The edits act: the new targets gain probability over the unedited base.
        #expect(none10.efficacyMagnitude! > base.efficacyMagnitude!)
        #expect(try String(contentsOfFile: o.rows, encoding: .utf8).split(separator: "\n").count == 6)
    }
}
