import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// Every bad input gets a typed error whose message is one line naming the file (or the prompt)
/// and the place; nothing crashes.
@Suite struct BadInputTests {
    /// Loads `path` expecting an error whose message contains every string of `mentions`.
    func expectFailure(_ path: String, _ mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try LanguageModel.load(path)
            Issue.record("\(path) loaded", sourceLocation: sourceLocation)
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            #expect(!message.contains("\n"), sourceLocation: sourceLocation)
            for m in mentions { #expect(message.contains(m), "'\(message)' does not mention '\(m)'", sourceLocation: sourceLocation) }
        }
    }

    func copyFolder(_ model: String, to dir: String, without: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["config.json", "model.safetensors"] where !without.contains(f) {
            try FileManager.default.copyItem(atPath: try RuntimeTest.fixture(model, f), toPath: dir + "/" + f)
        }
    }

    @Test func missingConfig() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try copyFolder("gpt2-tiny", to: dir + "/m", without: ["config.json"])
        expectFailure(dir + "/m", [dir + "/m", "config.json"])
        expectFailure(dir + "/m/model.safetensors", [dir + "/m", "config.json"])
        let e = RuntimeError.missingConfig(folder: "x")
        #expect(e.errorDescription == "x: no config.json in the model folder (config.json)")
    }

    @Test func missingWeightsAndShards() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try copyFolder("gpt2-tiny", to: dir + "/m", without: ["model.safetensors"])
        expectFailure(dir + "/m", [dir + "/m", "model.safetensors"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["shard", try RuntimeTest.fixture("llama-tiny"), dir + "/s", "1500000"])
        // A truncated shard: the container names the shard and where its data ends.
        let shard = dir + "/s/model-00004-of-00015.safetensors"
        let size = try FileManager.default.attributesOfItem(atPath: shard)[.size] as! Int
        let h = try #require(FileHandle(forWritingAtPath: shard))
        try h.truncate(atOffset: UInt64(size - 100))
        try h.close()
        expectFailure(dir + "/s", ["model-00004-of-00015.safetensors"])
        // A missing shard, and an index that names a tensor its shard lacks.
        try FileManager.default.removeItem(atPath: shard)
        expectFailure(dir + "/s", ["model.safetensors.index.json", "model-00004-of-00015.safetensors"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["shard", try RuntimeTest.fixture("llama-tiny"), dir + "/t", "1500000"])
        let index = dir + "/t/model.safetensors.index.json"
        var text = try String(contentsOfFile: index, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"lm_head.weight\": \"model-00001-of-00015.safetensors\"",
                                         with: "\"lm_head.weight\": \"model-00002-of-00015.safetensors\"")
        try text.write(toFile: index, atomically: true, encoding: .utf8)
        expectFailure(dir + "/t", ["model.safetensors.index.json", "lm_head.weight", "model-00002-of-00015.safetensors"])
        try "{\"weight_map\": 3}".write(toFile: index, atomically: true, encoding: .utf8)
        expectFailure(dir + "/t", ["model.safetensors.index.json", "weight_map"])
    }

    @Test func unknownArchitecture() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try copyFolder("gpt2-tiny", to: dir + "/m", without: ["config.json"])
        try "{\"model_type\": \"bert\", \"hidden_size\": 256}".write(toFile: dir + "/m/config.json", atomically: true, encoding: .utf8)
        expectFailure(dir + "/m", [dir + "/m/config.json", "'bert'"])
        try RuntimeTest.runPython("runtime_gguf_tools.py", ["set-arch", try RuntimeTest.fixture("llama-tiny", "model-f32.gguf"), dir + "/x.gguf", "falcon"])
        expectFailure(dir + "/x.gguf", [dir + "/x.gguf", "'falcon'"])
    }

    @Test func badConfigurations() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try String(contentsOfFile: try RuntimeTest.fixture("llama-tiny", "config.json"), encoding: .utf8)
        let cases: [(String, String, [String])] = [
            ("\"num_hidden_layers\": 4,", "", ["num_hidden_layers", "missing"]),
            ("\"hidden_size\": 256,", "\"hidden_size\": -3,", ["hidden_size"]),
            ("\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"", ["'yarn'"]),
            ("{", "{,", ["config.json"]),
            // Numbers the GGUF reader refuses (PositiveParameter): NaN logits otherwise.
            ("\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": -1e-05", ["'rms_norm_eps'", "positive"]),
            ("\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 0", ["'rms_norm_eps'", "positive"]),
            ("\"rope_theta\": 10000.0", "\"rope_theta\": 0", ["'rope_parameters.rope_theta'", "positive"]),
            ("\"rope_theta\": 10000.0", "\"rope_theta\": -10000.0", ["'rope_parameters.rope_theta'", "positive"]),
            ("\"rope_parameters\": {", "\"rope_theta\": -1, \"unused\": {", ["'rope_theta'", "positive"]),
        ]
        for (i, (from, to, mentions)) in cases.enumerated() {
            try copyFolder("llama-tiny", to: dir + "/m\(i)", without: ["config.json"])
            #expect(config.contains(from))
            try config.replacingOccurrences(of: from, with: to).write(toFile: dir + "/m\(i)/config.json", atomically: true, encoding: .utf8)
            expectFailure(dir + "/m\(i)", [dir + "/m\(i)/config.json"] + mentions)
        }
    }

    @Test("GPT-2's layer_norm_epsilon ≤ 0 is refused as the GGUF reader refuses its epsilon")
    func gpt2Epsilon() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try String(contentsOfFile: try RuntimeTest.fixture("gpt2-tiny", "config.json"), encoding: .utf8)
        for (i, value) in ["-1e-05", "0"].enumerated() {
            try copyFolder("gpt2-tiny", to: dir + "/m\(i)", without: ["config.json"])
            try config.replacingOccurrences(of: "\"layer_norm_epsilon\": 1e-05", with: "\"layer_norm_epsilon\": \(value)")
                .write(toFile: dir + "/m\(i)/config.json", atomically: true, encoding: .utf8)
            expectFailure(dir + "/m\(i)", [dir + "/m\(i)/config.json", "'layer_norm_epsilon'", "positive"])
        }
        #expect(PositiveParameter.isValid(1e-5) && !PositiveParameter.isValid(-1e-5) && !PositiveParameter.isValid(0)
                && !PositiveParameter.isValid(1e-50) && !PositiveParameter.isValid(1e300) && !PositiveParameter.isValid(.nan))
    }

    @Test("tensors the configuration does not use are an error naming them; HF buffers (attn.bias, inv_freq) are accepted")
    func unusedTensors() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gpt2 = try RuntimeTest.fixture("gpt2-tiny"), llama = try RuntimeTest.fixture("llama-tiny")
        // A config.json with 3 layers for weights of 4.
        try copyFolder("gpt2-tiny", to: dir + "/short", without: ["config.json"])
        let config = try String(contentsOfFile: gpt2 + "/config.json", encoding: .utf8)
        #expect(config.contains("\"n_layer\": 4,"))
        try config.replacingOccurrences(of: "\"n_layer\": 4,", with: "\"n_layer\": 3,").write(toFile: dir + "/short/config.json", atomically: true, encoding: .utf8)
        expectFailure(dir + "/short", [dir + "/short/model.safetensors", "12 tensors", "3 layers", "'transformer.h.3."])
        try copyFolder("llama-tiny", to: dir + "/lshort", without: ["config.json"])
        let lconfig = try String(contentsOfFile: llama + "/config.json", encoding: .utf8)
        try lconfig.replacingOccurrences(of: "\"num_hidden_layers\": 4,", with: "\"num_hidden_layers\": 2,")
            .write(toFile: dir + "/lshort/config.json", atomically: true, encoding: .utf8)
        expectFailure(dir + "/lshort", [dir + "/lshort/model.safetensors", "'model.layers.2."])
        // Llama biases that attention_bias: false leaves out, and a stray tensor.
        try RuntimeTest.runPython("runtime_hf_tools.py", ["add", llama, dir + "/bias", "model.layers.0.self_attn.q_proj.bias", "256"])
        expectFailure(dir + "/bias", ["1 tensor", "'model.layers.0.self_attn.q_proj.bias'"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["add", gpt2, dir + "/stray", "transformer.extra.weight", "2", "2"])
        expectFailure(dir + "/stray", ["'transformer.extra.weight'"])
        // Buffers of Hugging Face checkpoints load, with the same logits.
        try RuntimeTest.runPython("runtime_hf_tools.py", ["add", gpt2, dir + "/mask", "transformer.h.0.attn.bias", "1", "1", "128", "128"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["add", dir + "/mask", dir + "/mask2", "transformer.h.0.attn.masked_bias"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["add", llama, dir + "/inv", "model.layers.0.self_attn.rotary_emb.inv_freq", "16"])
        for (folder, fixture) in [(dir + "/mask2", gpt2), (dir + "/inv", llama)] {
            let a = try LanguageModel.load(folder, options: LoadOptions(threads: 1, tokenizer: .skip))
            let b = try LanguageModel.load(fixture, options: LoadOptions(threads: 1, tokenizer: .skip))
            let ids: [[Int32]] = [[1, 5, 9, 200]]
            #expect(try a.transformer.forward(ids).logits.values == b.transformer.forward(ids).logits.values)
        }
    }

    @Test("a GGUF token list that is not one token per embedding row is refused (llama.cpp refuses it)")
    func ggufTokenCount() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for model in ["gpt2-tiny", "llama-tiny"] {
            let out = dir + "/\(model).gguf"
            try RuntimeTest.runPython("runtime_gguf_tools.py", ["drop-tokens", try RuntimeTest.fixture(model, "model-q8_0.gguf"), out, "3"])
            expectFailure(out, [out, "tokenizer.ggml.tokens", "4093 tokens", "4096 rows"])
        }
    }

    @Test func missingTensorAndShapeMismatch() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let llama = try RuntimeTest.fixture("llama-tiny"), gpt2 = try RuntimeTest.fixture("gpt2-tiny")
        try RuntimeTest.runPython("runtime_hf_tools.py", ["drop", llama, dir + "/a", "model.layers.1.mlp.down_proj.weight"])
        expectFailure(dir + "/a", [dir + "/a", "'model.layers.1.mlp.down_proj.weight'"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["drop", llama, dir + "/b", "lm_head.weight"])
        expectFailure(dir + "/b", ["'lm_head.weight'"])
        try RuntimeTest.runPython("runtime_hf_tools.py", ["reshape", gpt2, dir + "/c", "transformer.h.2.attn.c_attn.weight"])
        expectFailure(dir + "/c", [dir + "/c/model.safetensors", "'transformer.h.2.attn.c_attn.weight'", "[255, 768]", "[256, 768]"])
        try RuntimeTest.runPython("runtime_gguf_tools.py", ["drop-tensor", try RuntimeTest.fixture("gpt2-tiny", "model-q8_0.gguf"), dir + "/d.gguf", "blk.3.ffn_up.weight"])
        expectFailure(dir + "/d.gguf", [dir + "/d.gguf", "'blk.3.ffn_up.weight'"])
    }

    @Test func ggufWithoutNeededMetadata() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = try RuntimeTest.fixture("llama-tiny", "model-q4_k_m.gguf")
        for key in ["llama.attention.head_count", "llama.block_count", "llama.attention.layer_norm_rms_epsilon", "general.architecture"] {
            let out = dir + "/\(key).gguf"
            if key == "general.architecture" {
                try RuntimeTest.runPython("runtime_gguf_tools.py", ["set-arch", src, out, ""])
            } else {
                try RuntimeTest.runPython("runtime_gguf_tools.py", ["drop-key", src, out, key])
            }
            expectFailure(out, [out, key])
        }
    }

    @Test func badPrompts() throws {
        let m = try LanguageModel.load(try RuntimeTest.fixture("gpt2-tiny"))
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        let long = [Int32](repeating: 5, count: 129)
        #expect(message { _ = try m.transformer.forward([[1, 2], long]) } == "prompt 1: 129 tokens exceed the model's context of 128 (prompt 1)")
        #expect(message { _ = try m.transformer.generate([long]) }.contains("context of 128"))
        #expect(message { _ = try m.transformer.forward([[1, 4096]]) }.contains("token id 4096 is outside the vocabulary of 4096 (prompt 0, position 1)"))
        #expect(message { _ = try m.transformer.forward([[]]) }.contains("prompt 0: no tokens"))
        // A cache that is full stops generation at the context instead.
        let g = try m.transformer.generate([[Int32](repeating: 5, count: 120)], options: GenerationOptions(maxNewTokens: 50, stopTokens: []))
        #expect(g[0].steps.count == 9)
    }
}
