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
        ]
        for (i, (from, to, mentions)) in cases.enumerated() {
            try copyFolder("llama-tiny", to: dir + "/m\(i)", without: ["config.json"])
            #expect(config.contains(from))
            try config.replacingOccurrences(of: from, with: to).write(toFile: dir + "/m\(i)/config.json", atomically: true, encoding: .utf8)
            expectFailure(dir + "/m\(i)", [dir + "/m\(i)/config.json"] + mentions)
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
