import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// PEFT adapters written by Tests/scripts/edits_make_lora.py (safetensors + numpy): every module's
/// delta equals numpy's scaling · B·A (transposed for Conv1D / embeddings), placed on the stored tensor.
@Suite struct LoRATests {
    static func adapters() throws -> URL {
        let dir = try EditsSupport.tempDir()
        try EditsSupport.python("edits_make_lora.py", [dir.path])
        return dir
    }

    @Test(arguments: [("gpt2", "gpt2-tiny", "model.safetensors"), ("gpt2", "gpt2-tiny", "model-f32.gguf"),
                      ("gpt2", "gpt2-tiny", "model-q8_0.gguf"), ("llama", "llama-tiny", "model.safetensors"),
                      ("llama", "llama-tiny", "model-f16.gguf")])
    func adapterDeltasMatchNumpy(adapter: String, fixture: String, file: String) throws {
        let dir = try Self.adapters()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = try EditsSupport.fixture("\(fixture)/\(file)")
        let model = file.hasSuffix(".gguf") ? try EditsSupport.describe(target)
            : ModelDescription.safetensors(tensors: try EditsSupport.describe(target).tensors, modelPath: target)
        let lines = ["{\"kind\": \"lora\", \"id\": \"adapter\", \"adapter\": \"\(adapter)\", \"scale\": 0.5}"]
        let m = try EditsSupport.manifest(lines, in: dir)
        guard case .lora(let a, let s) = m.edits[0].kind else { Issue.record("not lora"); return }
        #expect(s == 0.5)
        let expectedModules = adapter == "gpt2" ? 9 : 14
        #expect(a.modules.count == expectedModules)
        // rsLoRA and the patterns: o_proj has r = 2 and α = 16 → 16/√2; down_proj α = 3 → 3/2.
        if adapter == "llama" {
            let o = try #require(a.modules.first { $0.module.hasSuffix("0.self_attn.o_proj") })
            #expect(o.rank == 2 && o.scaling == 16 / 2.0.squareRoot())
            let d = try #require(a.modules.first { $0.module.hasSuffix("0.mlp.down_proj") })
            #expect(d.rank == 4 && d.scaling == 3.0 / 2)
        }
        let names = a.modules.map { $0.module + ".weight" }
        let out = try DeltaOrientationTests.check(lines, model: model, modelPath: target, in: dir) { _, t in
            // Which module gave this target: the one whose weight maps to it.
            let i = names.firstIndex { (try? TensorLocator(model: model).locate($0).info.name) == t.tensor } ?? 0
            return ["hf_name": names[i], "scale": 0.5, "exact": false,
                    "expected": dir.appendingPathComponent("\(adapter)/expected/\(a.modules[i].module).npy").path]
        }
        #expect(out.hasPrefix("ok \(expectedModules) deltas"), "\(out)")
        let r = try m.resolve(against: model)
        #expect(r[0].id == "adapter" && r[0].kind == "lora" && r[0].targets.count == expectedModules)
    }

    @Test func unmappableModuleIsNamed() throws {
        let dir = try Self.adapters()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try EditsSupport.describe(try EditsSupport.fixture("gpt2-tiny/model-f32.gguf"))
        let m = try EditsSupport.manifest(["", "{\"kind\": \"lora\", \"adapter\": \"unmappable\"}"], in: dir)
        #expect(throws: EditError.unmappableModule(manifest: m.path, line: 2, adapter: "unmappable", module: "transformer.h.9.attn.c_attn")) {
            try m.resolve(against: model)
        }
        // The llama adapter on gpt2: its first module (sorted) cannot be mapped.
        let m2 = try EditsSupport.manifest(["{\"kind\": \"lora\", \"adapter\": \"llama\"}"], in: dir, name: "x.jsonl")
        #expect(throws: EditError.unmappableModule(manifest: m2.path, line: 1, adapter: "llama", module: "model.layers.0.mlp.down_proj")) {
            try m2.resolve(against: model)
        }
    }

    /// Broken adapters: each a clear error on the manifest line.
    @Test func badAdapters() throws {
        let dir = try Self.adapters()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        func variant(_ name: String, config: (inout [String: Any]) -> Void = { _ in }, dropWeights: Bool = false) throws {
            let d = dir.appendingPathComponent(name)
            try fm.copyItem(at: dir.appendingPathComponent("gpt2"), to: d)
            let c = d.appendingPathComponent("adapter_config.json")
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: c)) as? [String: Any] ?? [:]
            config(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: c)
            if dropWeights { try fm.removeItem(at: d.appendingPathComponent("adapter_model.safetensors")) }
        }
        try variant("dora") { $0["use_dora"] = true }
        try variant("rank") { $0["r"] = 8 }
        try variant("noweights", dropWeights: true)
        try "{".write(to: dir.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        try variant("badjson")
        try fm.removeItem(at: dir.appendingPathComponent("badjson/adapter_config.json"))
        try fm.moveItem(at: dir.appendingPathComponent("broken.json"), to: dir.appendingPathComponent("badjson/adapter_config.json"))
        for (name, fragment) in [("dora", "DoRA"), ("rank", "is not the configured r = 8"),
                                 ("noweights", "noweights/adapter_model.safetensors\""),
                                 ("badjson", "adapter_config.json: invalid JSON"),
                                 ("gpt2/adapter_config.json", "not a folder")] {
            let e = try #require(try EditsSupport.error(["{\"kind\": \"lora\", \"adapter\": \"\(dir.appendingPathComponent(name).path)\"}"],
                                                        allowOutsidePaths: true), "\(name)")
            #expect(e.line == 1)
            #expect(e.errorDescription?.contains(fragment) == true, "\(e.errorDescription ?? "")")
        }
    }
}
