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
    @Test("a checkpoint folder takes --allow-nonfinite the same way, on apply and on replay")
    func folderOverflow() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Two F16 shards as save_pretrained lays them out; a dense edit of 70000 on the second.
        try SafetyTest.python("""
            import json, os
            import numpy as np
            from safetensors.numpy import save_file
            os.makedirs('ckpt')
            rng = np.random.default_rng(3)
            names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
            save_file({'a.weight': (rng.standard_normal((64, 64)) * 0.02).astype(np.float16)}, 'ckpt/' + names[0], metadata={'format': 'pt'})
            save_file({'b.weight': (rng.standard_normal((64, 64)) * 0.02).astype(np.float16)}, 'ckpt/' + names[1], metadata={'format': 'pt'})
            index = {'metadata': {'total_size': 2 * 64 * 64 * 2}, 'weight_map': {'a.weight': names[0], 'b.weight': names[1]}}
            open('ckpt/model.safetensors.index.json', 'w').write(json.dumps(index, indent=2))
            open('big.jsonl', 'w').write(json.dumps({'kind': 'dense', 'tensor': 'b.weight', 'delta': [[70000.0] * 64] * 64}) + '\\n')
            """, cwd: dir)
        let apply = try SafetyTest.tool("prune-apply")
        let refused = try SafetyTest.run(apply, ["ckpt", "big.jsonl", "-o", "out", "--no-compress", "--restraint", "none"], cwd: dir)
        #expect(refused.status == 1 && refused.stderr.contains("would hold inf") && refused.stderr.contains("--allow-nonfinite"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        let ok = try SafetyTest.run(apply, ["ckpt", "big.jsonl", "-o", "out", "--no-compress", "--restraint", "none", "--allow-nonfinite",
                                            "--sidecar", "big.prune"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        let count = try SafetyTest.run("/usr/bin/env", ["python3", "-c", """
            import numpy as np
            from safetensors.numpy import load_file
            print(int(np.count_nonzero(~np.isfinite(load_file('out/model-00002-of-00002.safetensors')['b.weight'].astype(np.float32)))))
            """], cwd: dir)
        #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4096", "\(count.stdout) \(count.stderr)")
        let replayRefused = try SafetyTest.run(apply, ["ckpt", "big.prune", "-o", "again", "--no-compress"], cwd: dir)
        #expect(replayRefused.status == 1 && replayRefused.stderr.contains("would hold inf"), "\(replayRefused.stderr)")
        let replay = try SafetyTest.run(apply, ["ckpt", "big.prune", "-o", "again", "--no-compress", "--allow-nonfinite"], cwd: dir)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(try SafetyTest.sha256(dir + "/again/model-00002-of-00002.safetensors")
                == (try SafetyTest.sha256(dir + "/out/model-00002-of-00002.safetensors")))
    }
}
