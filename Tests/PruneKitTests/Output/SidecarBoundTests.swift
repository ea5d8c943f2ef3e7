import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The revert residual against its information bound Σ max(0, e(W₀+ΔW̄) − e(W₀)), computed by an
/// independent numpy script (Tests/scripts/sidecar_bound.py) from the base and edited models.
@Suite struct SidecarBoundTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var model: String          // relative to the fixtures, or "variant:<file>"
        var tensor: String
        /// "strong" / "weak" (apply_make_manifest.py strength 3 / 0.1) or "sequence" (100 rank-1 edits)
        var kind: String
        var testDescription: String { label }
    }

    static let cases: [Case] = {
        var out: [Case] = []
        let models: [(String, String, String)] = [
            ("F32 safetensors", "llama-tiny/model.safetensors", "model.layers.1.mlp.up_proj.weight"),
            ("F16 safetensors", "variant:model-f16.safetensors", "model.layers.1.mlp.up_proj.weight"),
            ("BF16 safetensors", "variant:model-bf16.safetensors", "model.layers.1.mlp.up_proj.weight"),
            ("F16 GGUF", "llama-tiny/model-f16.gguf", "blk.1.ffn_up.weight"),
            ("F32 GPT-2 Conv1D", "gpt2-tiny/model.safetensors", "transformer.h.1.mlp.c_proj.weight"),
        ]
        for (label, model, tensor) in models {
            for kind in ["strong", "weak", "sequence"] {
                out.append(Case(label: "\(label), \(kind)", model: model, tensor: tensor, kind: kind))
            }
        }
        return out
    }()

    @Test(arguments: cases)
    func residualIsWithinHalfAgainOfTheBound(_ c: Case) throws {
        let dir = try ApplyTestSupport.scratch("bound")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var model = ApplyTestSupport.fixture(c.model)
        if c.model.hasPrefix("variant:") {
            let r = try ApplyTestSupport.python("apply_make_variants.py", [ApplyTestSupport.fixture("llama-tiny/model.safetensors"), dir])
            #expect(r.status == 0, "\(r.stderr)")
            model = dir + "/" + c.model.dropFirst(8)
        }
        let manifest = dir + "/edits.jsonl"
        let made = c.kind == "sequence"
            ? try ApplyTestSupport.python("sidecar_make_sequence.py", [model, manifest, c.tensor, "100", "3.0", "7"])
            : try ApplyTestSupport.python("apply_make_manifest.py", [model, manifest, "11", c.tensor, "--strength",
                                                                     c.kind == "strong" ? "3.0" : "0.1"])
        #expect(made.status == 0, "\(made.stderr)")
        let out = dir + "/out.bin"
        _ = try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(out), sidecar: dir + "/e.prune",
                                       options: { var o = ApplyOptions(); o.output = .uncompressed; return o }()))
        let r = try ApplyTestSupport.python("sidecar_bound.py", [model, out, dir + "/e.prune", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.count == 1)
        for row in rows {
            let residualBits = 8 * (row["residual_bytes"] as? Int ?? -1)
            let bound = row["bound_bits"] as? Int ?? -1
            #expect(row["codec"] as? String == LostBits.codec)
            #expect(bound >= 0)
            // At most 64 bytes of framing when nothing (or almost nothing) is lost.
            #expect(Double(residualBits) <= 1.5 * Double(bound) + 512,
                    "\(c.label): residual \(residualBits) bits, bound \(bound) bits")
            if bound > 10_000 {
                #expect(Double(residualBits) <= 1.5 * Double(bound), "\(c.label): ratio \(Double(residualBits) / Double(bound))")
            }
        }
        // Revert gives the base back byte for byte.
        _ = try Revert.run(model: out, sidecar: dir + "/e.prune", output: .file(dir + "/back.bin"), options: .uncompressed)
        #expect(ApplyTestSupport.bytes(dir + "/back.bin") == ApplyTestSupport.bytes(model) ? true : false, "revert is not the base")
    }
}
