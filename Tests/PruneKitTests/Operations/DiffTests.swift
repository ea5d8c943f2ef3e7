import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// prune-diff on the fixtures: self-diffs are empty, an edit made by an independent tool (numpy /
/// gguf-py, Tests/scripts/report_make_edited.py) is found exactly, with its rank and spectrum.
@Suite("Diff") struct DiffTests {
    static let gpt2Files = ["model.safetensors", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"]

    @Test("a model diffed with itself is empty", arguments: gpt2Files)
    func selfDiffIsEmpty(file: String) throws {
        let path = try ReportTest.fixture("gpt2-tiny", file)
        let report = try ModelDiff.compare(path, path)
        #expect(report.tensors.isEmpty)
        #expect(report.unchanged == 52)
        #expect(report.layout.isIdentical)
        #expect(report.isIdentical)
        let json = try ReportTest.parseJSON(report.json().serialized())
        #expect((json["tensors"] as? [Any])?.count == 0)
        #expect(json["unchanged"] as? Int == 52)
    }

    /// Edits `tensors` of a fixture with a known rank-`rank` delta (independently, in Python).
    static func edited(_ model: String, _ file: String, rank: Int, tensors: [String], in dir: String)
        throws -> (String, String, [String: [String: Any]]) {
        let base = try ReportTest.fixture(model, file)
        let out = dir + "/edited-" + file
        let info = try ReportTest.python("report_make_edited.py",
                                         [base, out, "--rank", String(rank), "--seed", "7"] + tensors)
        guard let t = info["tensors"] as? [String: [String: Any]] else { throw ReportTest.Failure("bad script output") }
        return (base, out, t)
    }

    @Test("base vs edited finds exactly the edited tensors, their rank and singular values",
          arguments: [("gpt2-tiny", "model.safetensors", ["transformer.h.1.mlp.c_fc.weight", "transformer.h.0.attn.c_proj.weight"], 2),
                      ("gpt2-tiny", "model-f16.gguf", ["blk.2.attn_qkv.weight"], 3),
                      ("gpt2-tiny", "model-q8_0.gguf", ["blk.1.ffn_up.weight", "blk.3.ffn_down.weight"], 2),
                      ("llama-tiny", "model.safetensors", ["model.layers.0.self_attn.q_proj.weight"], 1),
                      ("llama-tiny", "model-q8_0.gguf", ["blk.0.attn_k.weight"], 4)])
    func findsEdit(model: String, file: String, tensors: [String], rank: Int) throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (base, edited, expected) = try Self.edited(model, file, rank: rank, tensors: tensors, in: dir)
        let report = try ModelDiff.compare(base, edited)
        #expect(Set(report.tensors.map(\.name)) == Set(tensors))
        #expect(report.layout.isIdentical)
        let total = try ModelFile(path: base).tensors.count
        #expect(report.unchanged == total - tensors.count)
        for t in report.tensors {
            let e = try #require(expected[t.name])
            #expect(t.spectrum?.rank == rank, "\(t.name)")
            let sv = try #require(e["singular_values"] as? [Double])
            let ours = try #require(t.spectrum?.topSingularValues)
            for i in 0..<rank {
                #expect(abs(ours[i] - sv[i]) <= 1e-4 * sv[0], "\(t.name) σ\(i): \(ours[i]) vs numpy \(sv[i])")
            }
            let maxAbs = try #require(e["max_abs"] as? Double)
            #expect(abs((t.maxAbs ?? 0) - maxAbs) <= 1e-6 * maxAbs)
            let rel = try #require(e["rel_frobenius"] as? Double)
            #expect(abs((t.relativeFrobenius ?? 0) - rel) <= 1e-5 * rel)
            #expect((t.sigmaMaxA ?? 0) > 0 && (t.sigmaMaxB ?? 0) > 0)
        }
    }

    @Test("A and B of different compression give the same report; JSON follows the contract")
    func compressedAndJSON() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = "blk.0.attn_output.weight"
        let (base, edited, _) = try Self.edited("gpt2-tiny", "model-q8_0.gguf", rank: 2, tensors: [name], in: dir)
        let z = try ReportTest.sh("zstd -q -f '\(edited)' -o '\(edited).zst'")
        #expect(z.status == 0)
        let plain = try ModelDiff.compare(base, edited)
        let mixed = try ModelDiff.compare(base, edited + ".zst")
        #expect(mixed.layout.compressedB && !mixed.layout.compressedA)
        #expect(plain.tensors.map(\.name) == mixed.tensors.map(\.name))
        // LAPACK may differ in the last bits with the buffer's alignment; the printed report
        // (6 significant digits) must not.
        let sp = try #require(plain.tensors.first?.spectrum), sm = try #require(mixed.tensors.first?.spectrum)
        #expect(sp.rank == sm.rank)
        for (x, y) in zip(sp.topSingularValues, sm.topSingularValues) { #expect(abs(x - y) <= 1e-12 * sp.topSingularValues[0]) }
        #expect(plain.tensors.map { $0.json().serialized() } == mixed.tensors.map { $0.json().serialized() })

        let exe = try ReportTest.binary("prune-diff")
        let r = try ReportTest.run(exe, [base, edited + ".zst", "--json", "--spectra"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try ReportTest.parseJSON(r.stdout)
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.count == 1)
        let t = try #require(tensors.first)
        #expect(t["name"] as? String == name)
        #expect(t["changed"] as? Bool == true)
        #expect(t["rank"] as? Int == 2)
        #expect((t["max_abs"] as? Double ?? 0) > 0)
        #expect((t["top_singular_values"] as? [Double])?.count ?? 0 >= 2)
        #expect((t["sigma_max_a"] as? Double ?? 0) > 0)
        #expect((t["condition_a"] as? Double ?? 0) >= 1)
        #expect(json["unchanged"] as? Int == 51)
        let layout = try #require(json["layout"] as? [String: Any])
        #expect(layout["identical"] as? Bool == true)
    }

    @Test("models of different layout are reported, not crashed on")
    func layoutDifferences() throws {
        let gpt2 = try ReportTest.fixture("gpt2-tiny", "model.safetensors")
        let llama = try ReportTest.fixture("llama-tiny", "model.safetensors")
        let cross = try ModelDiff.compare(gpt2, llama)
        #expect(!cross.layout.isIdentical)
        #expect(cross.layout.onlyInA.contains("transformer.h.0.attn.c_attn.weight"))
        #expect(cross.layout.onlyInB.contains("model.layers.0.self_attn.q_proj.weight"))

        let f32 = try ReportTest.fixture("gpt2-tiny", "model-f32.gguf")
        let q8 = try ReportTest.fixture("gpt2-tiny", "model-q8_0.gguf")
        let r = try ModelDiff.compare(f32, q8)
        #expect(r.layout.formatA == .gguf && r.layout.formatB == .gguf)
        #expect(!r.layout.typeMismatches.isEmpty)
        #expect(r.layout.metadataChanges.contains { $0.key == "general.file_type" })
        // A dtype change alone is compared value by value: quantization noise is not an edit.
        let qkv = try #require(r.tensors.first { $0.name == "blk.0.attn_qkv.weight" })
        #expect(qkv.spectrum?.rank == 0, "Q8_0 rounding noise counted as rank \(qkv.spectrum?.rank ?? -1)")
        #expect((qkv.maxAbs ?? 0) > 0)

        let st = try ModelDiff.compare(gpt2, f32)
        #expect(st.layout.formatA == .safetensors && st.layout.formatB == .gguf)
        #expect(!st.isIdentical)
    }

    @Test("the CLI reports a missing file on stderr and exits 1")
    func missingFile() throws {
        let exe = try ReportTest.binary("prune-diff")
        let base = try ReportTest.fixture("gpt2-tiny", "model.safetensors")
        let r = try ReportTest.run(exe, [base, "/nonexistent/model.safetensors"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("prune-diff: /nonexistent/model.safetensors"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}

/// Inputs on standard input and tensors stored in another order.
@Suite("DiffInputs") struct DiffInputTests {
    @Test("a reordered copy is reported as an order difference only, with either side on stdin")
    func reorderedAndStdin() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = try ReportTest.fixture("gpt2-tiny", "model.safetensors")
        let reordered = dir + "/reordered.safetensors"
        let py = try ReportTest.run("/usr/bin/env", ["python3", "-c", """
            import json
            raw = open('\(base)', 'rb').read()
            n = int.from_bytes(raw[:8], 'little'); h = json.loads(raw[8:8 + n]); data = raw[8 + n:]
            meta = h.pop('__metadata__', None)
            names = sorted(h, key=lambda k: h[k]['data_offsets'][0], reverse=True)
            out, blobs, off = {}, [], 0
            if meta is not None: out['__metadata__'] = meta
            for k in names:
                lo, hi = h[k]['data_offsets']
                out[k] = dict(h[k], data_offsets=[off, off + hi - lo]); blobs.append(data[lo:hi]); off += hi - lo
            hb = json.dumps(out).encode(); hb += b' ' * ((8 - len(hb) % 8) % 8)
            open('\(reordered)', 'wb').write(len(hb).to_bytes(8, 'little') + hb + b''.join(blobs))
            """])
        #expect(py.status == 0, "\(py.stderr)")
        let exe = try ReportTest.binary("prune-diff")
        for command in ["'\(exe)' --json '\(base)' - < '\(reordered)'", "'\(exe)' --json - '\(reordered)' < '\(base)'",
                        "'\(exe)' --json '\(base)' '\(reordered)'"] {
            let r = try ReportTest.sh(command)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            let j = try ReportTest.parseJSON(r.stdout)
            #expect((j["tensors"] as? [Any])?.count == 0)
            #expect(j["unchanged"] as? Int == 52)
            let layout = try #require(j["layout"] as? [String: Any])
            #expect(layout["order_differs"] as? Bool == true)
            #expect(layout["identical"] as? Bool == false)
        }
    }
}
