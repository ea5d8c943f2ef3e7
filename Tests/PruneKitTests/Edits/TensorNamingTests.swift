import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The HF ↔ GGUF mapping on both fixtures, checked against gguf-py's TensorNameMap and the data:
/// converter_transform(HF tensor) == GGUF tensor exactly, for every tensor.
@Suite struct TensorNamingTests {
    static func layoutLabel(_ l: TensorPlacement.Layout) -> String {
        switch l {
        case .asStored: return "asStored"
        case .transposed: return "transposed"
        case .permutedRows(let h): return "permutedRows:\(h)"
        }
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func mappingMatchesConverterOnFixture(fixture: String) throws {
        let stPath = try EditsSupport.fixture("\(fixture)/model.safetensors")
        let ggPath = try EditsSupport.fixture("\(fixture)/model-f32.gguf")
        let st = try EditsSupport.describe(stPath)
        let gg = try EditsSupport.describe(ggPath)
        // The safetensors description as prune builds it for a file (config.json beside it).
        let stOwn = ModelDescription.safetensors(tensors: st.tensors, modelPath: stPath)
        #expect(stOwn.knownArchitecture?.rawValue == gg.architecture)
        #expect(ModelDescription.detectArchitecture(tensorNames: st.tensors.map(\.name))?.rawValue == gg.architecture)

        let onGGUF = TensorLocator(model: gg), onST = TensorLocator(model: stOwn)
        var hfOnGGUF: [[String: String]] = [], ggufOnST: [[String: String]] = []
        for t in st.tensors {
            let p = try onGGUF.locate(t.name)
            hfOnGGUF.append(["name": t.name, "tensor": p.info.name, "layout": Self.layoutLabel(p.layout)])
        }
        for t in gg.tensors {
            let p = try onST.locate(t.name)
            ggufOnST.append(["name": t.name, "tensor": p.info.name, "layout": Self.layoutLabel(p.layout)])
        }
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("mapping.json")
        try JSONSerialization.data(withJSONObject: ["hf_on_gguf": hfOnGGUF, "gguf_on_st": ggufOnST]).write(to: url)
        let out = try EditsSupport.python("edits_check_mapping.py", [EditsSupport.fixtures.appendingPathComponent(fixture).path, url.path])
        #expect(out.hasPrefix("ok "), "\(out)")
        #expect(hfOnGGUF.count == st.tensors.count && ggufOnST.count == gg.tensors.count)
    }

    @Test func nameVariantsAndTiedOutput() throws {
        let gpt2 = try EditsSupport.describe(try EditsSupport.fixture("gpt2-tiny/model-f32.gguf"))
        let loc = TensorLocator(model: gpt2)
        // With and without GPT2LMHeadModel's "transformer." prefix; lm_head is tied to the embedding.
        #expect(try loc.locate("h.3.mlp.c_fc.weight").info.name == "blk.3.ffn_up.weight")
        #expect(try loc.locate("transformer.h.3.mlp.c_fc.bias").info.name == "blk.3.ffn_up.bias")
        #expect(try loc.locate("lm_head.weight").info.name == "token_embd.weight")
        #expect(try loc.locate("output.weight").info.name == "token_embd.weight")
        #expect(try loc.locate("blk.3.ffn_up.bias").layout == .asStored)
        #expect(try loc.locate("blk.3.ffn_up.weight").layout == .transposed)
        let st = ModelDescription.safetensors(tensors: try EditsSupport.describe(try EditsSupport.fixture("gpt2-tiny/model.safetensors")).tensors, modelPath: nil)
        #expect(st.knownArchitecture == .gpt2)   // detected from names, no config
        #expect(try TensorLocator(model: st).locate("lm_head.weight").info.name == "transformer.wte.weight")
        #expect(try TensorLocator(model: st).locate("blk.0.attn_qkv.weight").info.name == "transformer.h.0.attn.c_attn.weight")

        let llama = try EditsSupport.describe(try EditsSupport.fixture("llama-tiny/model-q4_k_m.gguf"))
        let ll = TensorLocator(model: llama)
        #expect(try ll.locate("layers.1.self_attn.k_proj.weight").info.name == "blk.1.attn_k.weight")
        #expect(try ll.locate("model.layers.1.self_attn.q_proj.weight").layout == .permutedRows(heads: 8))
        #expect(try ll.locate("blk.1.attn_k.weight").layout == .permutedRows(heads: 4))
        #expect(try ll.locate("lm_head.weight").info.name == "output.weight")

        // Out-of-range blocks and foreign names are unknown; so are HF names on an unknown architecture.
        #expect(throws: TensorLocator.Failure.self) { try ll.locate("model.layers.4.self_attn.q_proj.weight") }
        #expect(throws: TensorLocator.Failure.self) { try loc.locate("model.layers.0.self_attn.q_proj.weight") }
        var unknown = llama
        unknown.architecture = "mamba"
        #expect(throws: TensorLocator.Failure.self) { try TensorLocator(model: unknown).locate("model.norm.weight") }
        #expect(try TensorLocator(model: unknown).locate("blk.0.attn_q.weight").layout == .asStored)
    }

    @Test func missingHeadCountIsAnErrorOnlyForQK() throws {
        var llama = try EditsSupport.describe(try EditsSupport.fixture("llama-tiny/model-f32.gguf"))
        llama.headCount = nil
        llama.headCountKV = nil
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func zeros(_ n: Int) -> String { "[" + Array(repeating: "0", count: n).joined(separator: ", ") + "]" }
        let ok = try EditsSupport.manifest(["{\"kind\": \"lowrank\", \"tensor\": \"model.layers.0.self_attn.v_proj.weight\", \"u\": \(zeros(128)), \"v\": \(zeros(256))}"], in: dir)
        #expect(try ok.resolve(against: llama)[0].targets[0].tensor == "blk.0.attn_v.weight")
        let q = try EditsSupport.error(["{\"kind\": \"lowrank\", \"tensor\": \"blk.0.attn_q.weight\", \"u\": \(zeros(256)), \"v\": \(zeros(256))}"], model: llama)
        #expect(q?.line == 1)
        #expect(q?.errorDescription?.contains("llama.attention.head_count") == true, "\(q?.errorDescription ?? "")")
    }

    @Test func ggufModelFileDescription() throws {
        let file = try ModelFile(path: try EditsSupport.fixture("llama-tiny/model-f32.gguf"))
        let d = ModelDescription(file: file)
        #expect(d.format == .gguf && d.knownArchitecture == .llama && d.headCount == 8 && d.headCountKV == 4)
        let st = ModelDescription(file: try ModelFile(path: try EditsSupport.fixture("gpt2-tiny/model.safetensors")))
        #expect(st.format == .safetensors && st.knownArchitecture == .gpt2 && st.headCount == 8)
    }

    /// Without config.json the family comes from the tensor names and the recipe's own tensors:
    /// every family's checkpoint (made by Tests/scripts/arch_make_models.py, the Hugging Face layout
    /// transformers writes) is recognised; Mistral names and lays out every tensor as Llama does, so
    /// it reads as Llama. GPT-2's mask buffers do not hide it; names of no family give nil.
    @Test(arguments: KnownArchitecture.allCases)
    func familyRecognisedFromCheckpointNames(_ family: KnownArchitecture) throws {
        let dir = try TestEnvironment.tempDir("naming-\(family)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestProcess.python("arch_make_models.py", [dir, family.rawValue])
        let names = try EditsSupport.describe("\(dir)/\(family)/model.safetensors").tensors.map(\.name)
        let expected: KnownArchitecture = family == .mistral ? .llama : family
        #expect(ModelDescription.detectArchitecture(tensorNames: names) == expected)
        #expect(ModelDescription.safetensors(tensors: [], configJSON: nil).knownArchitecture == nil)
        if family == .gpt2 {
            let masks = names + ["h.0.attn.bias", "h.0.attn.masked_bias"]
            #expect(ModelDescription.detectArchitecture(tensorNames: masks) == .gpt2)
        }
        // One foreign tensor, or a recipe tensor the family lacks, and the names fit no family.
        #expect(ModelDescription.detectArchitecture(tensorNames: names + ["model.layers.0.mixer.in_proj.weight"]) == nil)
        if family == .llama || family == .qwen2 {
            #expect(ModelDescription.detectArchitecture(tensorNames: names + ["model.layers.0.self_attn.q_norm.weight"]) == .qwen3)
        }
    }

}
