import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Deltas given in the Hugging Face orientation land on the stored matrices exactly as llama.cpp's
/// converter lays out the weights: checked in Python (numpy + gguf-py) on the fixtures.
@Suite struct DeltaOrientationTests {
    /// Resolves `lines`, dumps every target's dense delta, and runs edits_check_deltas.py with
    /// per-target index entries made by `entry(edit index, target)`.
    static func check(_ lines: [String], model: ModelDescription, modelPath: String, in dir: URL,
                      entry: (Int, TensorDelta) -> [String: Any]) throws -> String {
        // The values may be read from the fixture models themselves: outside the manifest's folder.
        let m = try EditsSupport.manifest(lines, in: dir, allowOutsidePaths: true)
        let resolved = try m.resolve(against: model)
        #expect(resolved.count == lines.count)
        var index: [[String: Any]] = []
        for (i, edit) in resolved.enumerated() {
            for (j, t) in edit.targets.enumerated() {
                let raw = dir.appendingPathComponent("d\(i)_\(j).f32")
                try EditsSupport.writeRaw(t.denseValues(), to: raw)
                var e = entry(i, t)
                e["model"] = modelPath
                e["tensor"] = t.tensor
                e["rows"] = t.rows
                e["cols"] = t.cols
                e["file"] = raw.path
                index.append(e)
            }
        }
        let url = dir.appendingPathComponent("index.json")
        try JSONSerialization.data(withJSONObject: index).write(to: url)
        return try EditsSupport.python("edits_check_deltas.py", [url.path])
    }

    /// Every tensor of the safetensors model, given as a dense delta by its HF name (value read from
    /// the model itself), resolved on the GGUF file, must equal the GGUF tensor's layout exactly.
    @Test(arguments: [("gpt2-tiny", "model-f32.gguf"), ("llama-tiny", "model-f32.gguf"), ("llama-tiny", "model-q4_k_m.gguf"), ("gpt2-tiny", "model.safetensors")])
    func denseHFDeltasOnEveryTensor(fixture: String, file: String) throws {
        let st = try EditsSupport.fixture("\(fixture)/model.safetensors")
        let target = try EditsSupport.fixture("\(fixture)/\(file)")
        let model = file.hasSuffix(".gguf") ? try EditsSupport.describe(target)
            : ModelDescription.safetensors(tensors: try EditsSupport.describe(target).tensors, modelPath: target)
        let names = try EditsSupport.describe(st).tensors.map(\.name)
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = names.map { "{\"kind\": \"dense\", \"tensor\": \"\($0)\", \"delta\": {\"file\": \"\(st)\", \"key\": \"\($0)\"}}" }
        let out = try Self.check(lines, model: model, modelPath: target, in: dir) { i, _ in
            ["hf_name": names[i], "expected_st": [st, names[i]], "scale": 1, "exact": true]
        }
        #expect(out.hasPrefix("ok \(names.count) deltas"), "\(out)")
    }

    /// Low-rank deltas (HF and GGUF names, scales) on the tensors the converter transforms.
    @Test(arguments: [("gpt2-tiny", "model-f32.gguf"), ("llama-tiny", "model-f32.gguf"), ("llama-tiny", "model.safetensors"), ("gpt2-tiny", "model.safetensors")])
    func lowRankDeltas(fixture: String, file: String) throws {
        let target = try EditsSupport.fixture("\(fixture)/\(file)")
        let model = file.hasSuffix(".gguf") ? try EditsSupport.describe(target)
            : ModelDescription.safetensors(tensors: try EditsSupport.describe(target).tensors, modelPath: target)
        // (name written in the manifest, HF name, HF rows, HF cols)
        let cases: [(String, String, Int, Int)] = fixture == "gpt2-tiny" ? [
            ("transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.weight", 256, 768),
            ("blk.1.attn_output.weight", "transformer.h.1.attn.c_proj.weight", 256, 256),
            ("h.2.mlp.c_fc.weight", "transformer.h.2.mlp.c_fc.weight", 256, 1024),
            ("transformer.h.3.mlp.c_proj.weight", "transformer.h.3.mlp.c_proj.weight", 1024, 256),
            ("lm_head.weight", "transformer.wte.weight", 4096, 256),
            ("position_embd.weight", "transformer.wpe.weight", 128, 256),
        ] : [
            ("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.weight", 256, 256),
            ("blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight", 256, 256),
            ("model.layers.2.self_attn.k_proj.weight", "model.layers.2.self_attn.k_proj.weight", 128, 256),
            ("blk.3.attn_k.weight", "model.layers.3.self_attn.k_proj.weight", 128, 256),
            ("model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.v_proj.weight", 128, 256),
            ("model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.down_proj.weight", 256, 768),
            ("lm_head.weight", "lm_head.weight", 4096, 256),
        ]
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix(seed: 7)
        var lines: [String] = [], extra: [[String: Any]] = []
        for (n, (name, hf, r, c)) in cases.enumerated() {
            let k = n % 3 + 1
            let u = (0..<(r * k)).map { _ in rng.nextFloat() }, v = (0..<(c * k)).map { _ in rng.nextFloat() }
            let uURL = dir.appendingPathComponent("u\(n).f32"), vURL = dir.appendingPathComponent("v\(n).f32")
            try EditsSupport.writeRaw(u, to: uURL)
            try EditsSupport.writeRaw(v, to: vURL)
            let scale = n % 2 == 0 ? 1.0 : -0.75
            let b64u = try Data(contentsOf: uURL).base64EncodedString(), b64v = try Data(contentsOf: vURL).base64EncodedString()
            lines.append("{\"kind\": \"lowrank\", \"tensor\": \"\(name)\", \"u\": {\"b64\": \"\(b64u)\", \"shape\": [\(r), \(k)]}, \"v\": {\"b64\": \"\(b64v)\", \"shape\": [\(c), \(k)]}, \"scale\": \(scale)}")
            extra.append(["hf_name": hf, "scale": scale, "exact": false,
                          "expected_uv": ["u": uURL.path, "v": vURL.path, "rows": r, "cols": c, "rank": k]])
        }
        let out = try Self.check(lines, model: model, modelPath: target, in: dir) { i, t in
            guard case .lowRank(_, _, let k) = t.delta else { Issue.record("not low-rank"); return [:] }
            #expect(k == i % 3 + 1)
            return extra[i]
        }
        #expect(out.hasPrefix("ok \(cases.count) deltas"), "\(out)")
    }

    @Test func permutationMatchesTheConverterDefinition() {
        // w.reshape(2 heads, 2, 2, 1).swapaxes(1, 2): rows [0 1 2 3 | 4 5 6 7] → [0 2 1 3 | 4 6 5 7].
        #expect(TensorPlacement.permutationSource(count: 8, heads: 2) == [0, 2, 1, 3, 4, 6, 5, 7])
        #expect(TensorPlacement.permutationSource(count: 4, heads: 2) == [0, 1, 2, 3])
    }
}

/// A small deterministic generator for test values in [-1, 1).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}
