import Foundation
import Testing

/// Issue 12, item 5: an edit whose result is not finite is an error naming the tensor, unless
/// --allow-nonfinite; then gguf-py (an independent reader) sees the infinities that were asked for.
@Suite("NonFinite") struct NonFiniteTests {
    static let tensor = "blk.0.attn_output.weight"     // 256 × 256 in gpt2-tiny's GGUF files

    /// big.jsonl: a dense edit of 70000 on every element (above F16's largest finite value, 65504);
    /// two.jsonl: two rank-1 edits of 3e38 on one element (their sum overflows f32).
    static func writeBigDense(in dir: String) throws {
        try SafetyTest.python("""
            import json
            d = [[70000.0] * 256 for _ in range(256)]
            open('big.jsonl', 'w').write(json.dumps({'kind': 'dense', 'tensor': '\(tensor)', 'delta': d}) + '\\n')
            u = [[3e38]] + [[0.0]] * 255
            v = [[1.0]] + [[0.0]] * 255
            e = {'kind': 'lowrank', 'tensor': '\(tensor)', 'u': u, 'v': v}
            open('two.jsonl', 'w').write(json.dumps(dict(e, id='a')) + '\\n' + json.dumps(dict(e, id='b')) + '\\n')
            """, cwd: dir)
    }

    static func infinities(_ path: String, cwd: String) throws -> Int {
        let r = try SafetyTest.run("/usr/bin/env", ["python3", "-c", """
            import numpy as np
            from gguf import GGUFReader
            t = [t for t in GGUFReader('\(path)').tensors if t.name == '\(tensor)'][0]
            print(int(np.count_nonzero(~np.isfinite(np.asarray(t.data, dtype=np.float32)))))
            """], cwd: cwd)
        guard r.status == 0, let n = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ReportTest.Failure("gguf-py: \(r.stderr)")
        }
        return n
    }

    @Test("an F16 overflow is an error naming the tensor and nothing is written; --allow-nonfinite writes it, replay checks the same")
    func overflowIsRefused() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeBigDense(in: dir)
        let model = try ReportTest.fixture("gpt2-tiny", "model-f16.gguf")
        let r = try SafetyTest.run(try SafetyTest.tool("prune-apply"),
                                   [model, "big.jsonl", "-o", "out.gguf", "--no-compress", "--restraint", "none"], cwd: dir)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr == "prune-apply: \(model): the edited tensor would hold inf at element 0; give --allow-nonfinite to write it anyway (tensor \(Self.tensor))\n", "\(r.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!left.contains("out.gguf") && !left.contains { $0.hasSuffix(".prune") } && !left.contains { $0.hasPrefix(".") }, "\(left)")

        // Asked for: written, and the infinities are really there (70000 > 65504 everywhere).
        let ok = try SafetyTest.run(try SafetyTest.tool("prune-apply"),
                                    [model, "big.jsonl", "-o", "out.gguf", "--no-compress", "--restraint", "none", "--allow-nonfinite"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try Self.infinities(dir + "/out.gguf", cwd: dir) == 256 * 256)
        // Replay checks the same: refused without the flag, bit for bit with it; revert is exact.
        let replay = try SafetyTest.run(try SafetyTest.tool("prune-apply"), [model, "big.prune", "-o", "again.gguf", "--no-compress"], cwd: dir)
        #expect(replay.status == 1 && replay.stderr.contains("would hold inf"), "\(replay.stderr)")
        let replay2 = try SafetyTest.run(try SafetyTest.tool("prune-apply"),
                                         [model, "big.prune", "-o", "again.gguf", "--no-compress", "--allow-nonfinite"], cwd: dir)
        #expect(replay2.status == 0, "\(replay2.stderr)")
        #expect(try SafetyTest.sha256(dir + "/again.gguf") == (try SafetyTest.sha256(dir + "/out.gguf")))
        let back = try SafetyTest.run(try SafetyTest.tool("prune-revert"), ["out.gguf", "big.prune", "-o", "back.gguf"], cwd: dir)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try SafetyTest.sha256(dir + "/back.gguf") == (try SafetyTest.sha256(model)))
    }

    @Test("two f32 edits of 3e38 unrestrained: the delta itself overflows f32, an error even with --allow-nonfinite")
    func f32OverflowIsRefused() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeBigDense(in: dir)
        let model = try ReportTest.fixture("gpt2-tiny", "model-f32.gguf")
        for extra in [[], ["--allow-nonfinite"]] {
            let r = try SafetyTest.run(try SafetyTest.tool("prune-apply"),
                                       [model, "two.jsonl", "-o", "out.gguf", "--no-compress", "--restraint", "none"] + extra, cwd: dir)
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.stderr == "prune-apply: \(model): the restrained delta does not fit in f32 (its factors overflow), so it can be neither stored nor reverted (tensor \(Self.tensor))\n", "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { $0 != "out.gguf" && $0 != "two.prune" && !$0.hasPrefix(".") })
        }
    }

    @Test("the default log restraint keeps the same edit finite")
    func restraintKeepsItFinite() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeBigDense(in: dir)
        let model = try ReportTest.fixture("gpt2-tiny", "model-f16.gguf")
        let r = try SafetyTest.run(try SafetyTest.tool("prune-apply"), [model, "big.jsonl", "-o", "out.gguf", "--no-compress"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.infinities(dir + "/out.gguf", cwd: dir) == 0)
    }
}
