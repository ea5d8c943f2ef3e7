import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// `prune-diff A B --sidecar OUT` for models edited by another tool (numpy / gguf-py):
/// `prune-apply A OUT` gives B and `prune-revert B OUT` gives A, byte for byte (cmp).
@Suite("DiffSidecar") struct DiffSidecarTests {
    static func roundTrip(base: String, edited: String, dir: String) throws -> [String: Any] {
        let sidecar = dir + "/diff.prune"
        let d = try ReportTest.run(try ReportTest.binary("prune-diff"), [base, edited, "--sidecar", sidecar])
        #expect(d.status == 0, "prune-diff --sidecar: \(d.stderr)")
        let forward = dir + "/forward.bin", back = dir + "/back.bin"
        let a = try ReportTest.run(try ReportTest.binary("prune-apply"), [base, sidecar, "-o", forward, "--no-compress"])
        #expect(a.status == 0, "prune-apply A OUT: \(a.stderr)")
        let r = try ReportTest.run(try ReportTest.binary("prune-revert"), [edited, sidecar, "-o", back])
        #expect(r.status == 0, "prune-revert B OUT: \(r.stderr)")
        let plainEdited = edited.hasSuffix(".zst") ? dir + "/edited-plain.bin" : edited
        if edited.hasSuffix(".zst") { #expect(try ReportTest.sh("zstd -q -d -f '\(edited)' -o '\(plainEdited)'").status == 0) }
        #expect(try ReportTest.sh("cmp '\(forward)' '\(plainEdited)'").status == 0, "prune-apply A OUT is not B")
        #expect(try ReportTest.sh("cmp '\(back)' '\(base)'").status == 0, "prune-revert B OUT is not A")
        let audit = try ReportTest.run(try ReportTest.binary("prune-audit"), [sidecar, edited, "--json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        return try ReportTest.parseJSON(audit.stdout)
    }

    @Test("a foreign low-rank edit round-trips both ways and is stored low-rank",
          arguments: [("gpt2-tiny", "model.safetensors", "transformer.h.2.mlp.c_fc.weight"),
                      ("gpt2-tiny", "model-f16.gguf", "blk.1.attn_qkv.weight"),
                      ("gpt2-tiny", "model-q8_0.gguf", "blk.0.ffn_down.weight"),
                      ("llama-tiny", "model-q8_0.gguf", "blk.1.ffn_gate.weight")])
    func foreignLowRank(model: String, file: String, tensor: String) throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (base, edited, _) = try DiffTests.edited(model, file, rank: 2, tensors: [tensor], in: dir)
        #expect(try ReportTest.sh("zstd -q '\(edited)' -o '\(edited).zst'").status == 0)
        let audit = try Self.roundTrip(base: base, edited: edited + ".zst", dir: dir)
        #expect(audit["verdict"] as? String == "edited")
        #expect((audit["integrity"] as? [String: Any])?["consistent"] as? Bool == true)
        let tensors = try #require(audit["tensors"] as? [[String: Any]])
        #expect(tensors.map { $0["name"] as? String } == [tensor])
        #expect(tensors.first?["rank_after"] as? Int == 2)
    }

    @Test("a full-rank change is carried by the residuals (one factor kept); identical models give an empty sidecar")
    func fullRankAndIdentity() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = try ReportTest.fixture("gpt2-tiny", "model.safetensors")
        // Full-rank: every element of a bias-free matrix perturbed independently (numpy).
        let edited = dir + "/noisy.safetensors"
        let py = try ReportTest.run("/usr/bin/env", ["python3", "-c", """
            import numpy as np
            from safetensors.numpy import load_file, save_file
            import json
            t = load_file('\(base)')
            rng = np.random.default_rng(3)
            w = t['transformer.h.0.attn.c_proj.weight']
            t['transformer.h.0.attn.c_proj.weight'] = (w + rng.standard_normal(w.shape).astype(np.float32) * 0.01).astype(np.float32)
            # keep the header byte-identical: same names, order and metadata
            n = int.from_bytes(open('\(base)', 'rb').read(8), 'little')
            header = open('\(base)', 'rb').read(8 + n)
            data = bytearray(open('\(base)', 'rb').read())
            h = json.loads(header[8:])
            lo, hi = h['transformer.h.0.attn.c_proj.weight']['data_offsets']
            data[8 + n + lo: 8 + n + hi] = t['transformer.h.0.attn.c_proj.weight'].tobytes()
            open('\(edited)', 'wb').write(bytes(data))
            """])
        #expect(py.status == 0, "\(py.stderr)")
        let audit = try Self.roundTrip(base: base, edited: edited, dir: dir)
        let t = try #require((audit["tensors"] as? [[String: Any]])?.first)
        #expect(t["rank_after"] as? Int == 1, "a full-rank delta must not be stored as full factors")

        let same = try Self.roundTrip(base: base, edited: base, dir: dir)
        #expect((same["tensors"] as? [Any])?.count == 0)
    }

    @Test("models of different layout are refused with a clear message and no file")
    func layoutRefused() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = dir + "/x.prune"
        let r = try ReportTest.run(try ReportTest.binary("prune-diff"),
                                   [try ReportTest.fixture("gpt2-tiny", "model-f32.gguf"),
                                    try ReportTest.fixture("gpt2-tiny", "model-q8_0.gguf"), "--sidecar", sidecar])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot write a sidecar from A to B"))
        #expect(!FileManager.default.fileExists(atPath: sidecar))
    }
}
