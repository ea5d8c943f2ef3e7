import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// Loading the other forms of a model: sharded Hugging Face folders (as save_pretrained writes
/// them), f16 and bf16 folders, a safetensors file by its path, zstd-compressed GGUF.
@Suite struct LoaderTests {
    func logits(_ path: String, _ prompts: [[Int32]]) throws -> FloatMatrix {
        let m = try LanguageModel.load(path, options: LoadOptions(threads: 2))
        return try m.transformer.forward(prompts, logits: .all).logits
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func shardedFolderGivesIdenticalLogits(model: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RuntimeTest.runPython("runtime_hf_tools.py", ["shard", try RuntimeTest.fixture(model), dir + "/sharded", "1500000"])
        let shards = try FileManager.default.contentsOfDirectory(atPath: dir + "/sharded").filter { $0.hasSuffix(".safetensors") }
        #expect(shards.count >= 5 && !shards.contains("model.safetensors"))
        let a = try logits(try RuntimeTest.fixture(model), ref.ids)
        let b = try logits(dir + "/sharded", ref.ids)
        #expect(RuntimeTest.sameBits(a, b))
        let m = try LanguageModel.load(dir + "/sharded")
        #expect(try m.weights.tensorName(.mlpDown, layer: 1) == (model == "gpt2-tiny" ? "transformer.h.1.mlp.c_proj.weight" : "model.layers.1.mlp.down_proj.weight"))
    }

    /// f16 / bf16 folders against the f32 folder of the same rounded values (both written by
    /// Tests/scripts/runtime_hf_tools.py), weights kept as stored.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"], ["f16", "bf16"])
    func halfPrecisionFolders(model: String, dtype: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = try RuntimeTest.fixture(model)
        try RuntimeTest.runPython("runtime_hf_tools.py", ["convert", src, dir + "/half", dtype])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["upcast", src, dir + "/upcast", dtype])
        let m = try LanguageModel.load(dir + "/half", options: LoadOptions(threads: 2))
        #expect(m.weights.layers[0].down.storedType == dtype.uppercased())
        let expected = try logits(dir + "/upcast", ref.ids)
        let streamed = try logits(dir + "/half", ref.ids)
        #expect(RuntimeTest.maxAbsDiff(streamed.values, expected.values) <= 1e-4)
    }

    @Test func safetensorsFilePathAndCompressedGGUF() throws {
        let ref = try RuntimeTest.Reference(model: "llama-tiny")
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let byFolder = try logits(try RuntimeTest.fixture("llama-tiny"), ref.ids)
        let byFile = try logits(try RuntimeTest.fixture("llama-tiny", "model.safetensors"), ref.ids)
        #expect(RuntimeTest.sameBits(byFolder, byFile))
        let q8 = try RuntimeTest.fixture("llama-tiny", "model-q8_0.gguf")
        try IOTest.zstdCompress(q8, to: dir + "/model-q8_0.gguf.zst")
        #expect(RuntimeTest.sameBits(try logits(q8, ref.ids), try logits(dir + "/model-q8_0.gguf.zst", ref.ids)))
    }

    @Test func weightsAreReadAndReplacedInTheHuggingFaceOrientation() throws {
        for model in RuntimeTest.models {
            let st = try LanguageModel.load(try RuntimeTest.fixture(model))
            let gguf = try LanguageModel.load(try RuntimeTest.fixture(model, "model-f32.gguf"))
            let roles: [MatrixRole] = model == "gpt2-tiny" ? [.attentionQKV, .attentionOutput, .mlpUp, .mlpDown]
                : [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .mlpGate, .mlpUp, .mlpDown]
            for role in roles {
                let a = try st.weights.values(role, layer: 2), b = try gguf.weights.values(role, layer: 2)
                #expect(a == b, "\(model) \(role): the GGUF matrix read back differs from the safetensors one")
            }
            // The HF file's own orientation: GPT-2 Conv1D [in, out] comes back transposed, [out, in].
            let f = try SafetensorsFile(path: try RuntimeTest.fixture(model, "model.safetensors"))
            let name = try st.weights.tensorName(.mlpDown, layer: 2)
            let info = try #require(f.info(named: name))
            let stored = try f.withData(for: name) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
            let v = try st.weights.values(.mlpDown, layer: 2)
            #expect(v.rows == st.config.hiddenSize && v.cols == st.config.ffnSize)
            if model == "gpt2-tiny" {
                #expect(info.shape == [v.cols, v.rows] && v[3, 5] == stored[5 * v.rows + 3])
            } else {
                #expect(info.shape == [v.rows, v.cols] && v.values == stored)
            }
        }
    }
}
