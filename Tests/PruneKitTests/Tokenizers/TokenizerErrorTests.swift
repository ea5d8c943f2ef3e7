import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// Bad input: each case fails with its one-line error naming the file and the place.
@Suite("TokenizerErrors") struct TokenizerErrorTests {
    /// A minimal GGUF v3 file with the given metadata and no tensors.
    enum Meta {
        case string(String)
        case strings([String])
        case int32s([Int32])
        case bool(Bool)
        case uint32(UInt32)
    }

    static func gguf(_ kvs: [(String, Meta)]) -> [UInt8] {
        var b: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); b += Array(s.utf8) }
        u32(3); u64(0); u64(UInt64(kvs.count))
        for (k, v) in kvs {
            str(k)
            switch v {
            case .string(let s): u32(8); str(s)
            case .strings(let list): u32(9); u32(8); u64(UInt64(list.count)); list.forEach(str)
            case .int32s(let list): u32(9); u32(5); u64(UInt64(list.count)); list.forEach { u32(UInt32(bitPattern: $0)) }
            case .bool(let x): u32(7); b.append(x ? 1 : 0)
            case .uint32(let x): u32(4); u32(x)
            }
        }
        while b.count % 32 != 0 { b.append(0) }
        return b
    }

    static func write(_ bytes: [UInt8], _ dir: String, _ name: String) throws -> String {
        let p = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    static func message(_ body: () throws -> Tokenizer) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? LocalizedError)?.errorDescription
        }
    }

    static let vocab: [(String, Meta)] = [
        ("general.architecture", .string("gpt2")),
        ("tokenizer.ggml.tokens", .strings(["a", "b", "ab", "<|endoftext|>"])),
        ("tokenizer.ggml.token_type", .int32s([1, 1, 1, 3])),
        ("tokenizer.ggml.merges", .strings(["a b"])),
    ]

    @Test("GGUF: without tokenizer metadata, unknown model, unknown pre-tokenizer, no merges, short token types, add_bos without a BOS id")
    func ggufErrors() throws {
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let none = try Self.write(Self.gguf([("general.architecture", .string("llama"))]), dir, "none.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: none) } == "\(none): GGUF without tokenizer metadata (no tokenizer.ggml.model / tokenizer.ggml.tokens)")

        let bert = try Self.write(Self.gguf(Self.vocab + [("tokenizer.ggml.model", .string("bert"))]), dir, "bert.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: bert) } == "\(bert): unsupported tokenizer model \"bert\"; prune reads gpt2 and llama (metadata key tokenizer.ggml.model)")

        let mystery = try Self.write(Self.gguf(Self.vocab + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("mystery-7b"))]), dir, "mystery.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: mystery) } == "\(mystery): unknown pre-tokenizer type \"mystery-7b\" (metadata key tokenizer.ggml.pre)")

        let noMerges = try Self.write(Self.gguf(Array(Self.vocab.prefix(3)) + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2"))]), dir, "nomerges.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: noMerges) } == "\(noMerges): missing: a gpt2 vocabulary needs its merges (metadata key tokenizer.ggml.merges)")

        var short = Self.vocab
        short[2] = ("tokenizer.ggml.token_type", .int32s([1, 1]))
        let shortTypes = try Self.write(Self.gguf(short + [("tokenizer.ggml.model", .string("gpt2"))]), dir, "short.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: shortTypes) } == "\(shortTypes): 2 types for 4 tokens (metadata key tokenizer.ggml.token_type)")

        let dup = try Self.write(Self.gguf([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(["<unk>", "x", "x"]))]), dir, "dup.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: dup) } == "\(dup): duplicate token \"x\" at ids 1 and 2 (metadata key tokenizer.ggml.tokens)")

        let noBOS = try Self.write(Self.gguf(Self.vocab + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
                                                           ("tokenizer.ggml.add_bos_token", .bool(true))]), dir, "nobos.gguf")
        #expect(Self.message { try TokenizerLoader.load(path: noBOS) } == "\(noBOS): true, but tokenizer.ggml.bos_token_id is not set (metadata key tokenizer.ggml.add_bos_token)")

        // A valid one of the same shape loads, and merges "a b".
        let ok = try Self.write(Self.gguf(Self.vocab + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
                                                        ("tokenizer.ggml.bos_token_id", .uint32(3))]), dir, "ok.gguf")
        let tok = try TokenizerLoader.load(path: ok)
        #expect(tok.encode("ab<|endoftext|>ba") == [2, 3, 1, 0])
        #expect(tok.bosTokenID == 3 && !tok.addsBOS)

        // Truncated: the GGUF reader's own one-line error.
        let truncated = try Self.write(Array(Self.gguf(Self.vocab).prefix(40)), dir, "truncated.gguf")
        let m = Self.message { try TokenizerLoader.load(path: truncated) } ?? ""
        #expect(m.hasPrefix(truncated + ": ") && !m.contains("\n"), "\(m)")
    }

    @Test("GGUF byte tokens that are empty, not UTF-8 or not <0xNN> are refused with their index (they would drop bytes)")
    func ggufByteTokens() throws {
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = try TokTest.fixture("llama-tiny", "model-q8_0.gguf")
        // Token 13 is <0x0A> (type 6, byte): the newline of "a\nb" is encoded through it.
        #expect(try TokenizerLoader.load(path: src).piece(for: 13) == "<0x0A>")
        for (name, hex) in [("empty", ""), ("latin1", "ff"), ("other", "3c30785a5a3e")] {
            let out = dir + "/\(name).gguf"
            try TestProcess.python("runtime_gguf_tools.py", ["set-token", src, out, "13", hex, "6"])
            let m = Self.message { try TokenizerLoader.load(path: out) } ?? ""
            #expect(m.hasPrefix(out + ": byte token 13 is ") && m.hasSuffix(", not <0xNN> (metadata key tokenizer.ggml.tokens)"), "\(m)")
        }
        // An empty token of another type keeps llama.cpp's placeholder.
        let normal = dir + "/normal.gguf"
        try TestProcess.python("runtime_gguf_tools.py", ["set-token", src, normal, "300", "", "1"])
        #expect(try TokenizerLoader.load(path: normal).piece(for: 300) == "[EMPTY_300]")
        // gpt2 vocabularies: a byte token must be a non-empty UTF-8 text.
        let gsrc = try TokTest.fixture("gpt2-tiny", "model-q8_0.gguf")
        let g = dir + "/g.gguf"
        try TestProcess.python("runtime_gguf_tools.py", ["set-token", gsrc, g, "5", "c3", "6"])
        #expect(Self.message { try TokenizerLoader.load(path: g) } == "\(g): byte token 5 is not valid UTF-8 (metadata key tokenizer.ggml.tokens)")
    }

    @Test("folders: nothing there, no tokenizer file, malformed JSON, unknown model type, unknown pre-tokenizer, bad merge, bad regex, bad protobuf, unigram model")
    func folderErrors() throws {
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(Self.message { try TokenizerLoader.load(path: dir + "/absent") } == "\(dir)/absent: no such file or folder")
        let empty = dir + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: empty + "/config.json"))
        #expect(Self.message { try TokenizerLoader.load(path: empty) } == "\(empty): no tokenizer: neither tokenizer.json nor tokenizer.model is in the folder")
        #expect(Self.message { try TokenizerLoader.load(path: empty + "/config.json") } == "\(empty): no tokenizer: neither tokenizer.json nor tokenizer.model is in the folder")

        let base = try String(contentsOfFile: try TokTest.fixture("gpt2-tiny", "tokenizer.json"), encoding: .utf8)
        func folder(_ name: String, _ json: String) throws -> String {
            let f = dir + "/" + name
            try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
            try Data(json.utf8).write(to: URL(fileURLWithPath: f + "/tokenizer.json"))
            return f
        }
        let truncated = try folder("truncated", String(base.prefix(100)))
        #expect(Self.message { try TokenizerLoader.load(path: truncated) }?.hasPrefix("\(truncated)/tokenizer.json: malformed JSON: ") == true)
        #expect(Self.message { try TokenizerLoader.load(path: truncated) }?.hasSuffix("(byte 100)") == true)

        let wordPiece = try folder("wordpiece", base.replacingOccurrences(of: "\"type\": \"BPE\"", with: "\"type\": \"WordPiece\""))
        #expect(Self.message { try TokenizerLoader.load(path: wordPiece) } == "\(wordPiece)/tokenizer.json: unsupported tokenizer model type \"WordPiece\"; prune reads BPE (model.type)")

        let bert = try folder("bertpre", base.replacingOccurrences(of: "\"pre_tokenizer\": {", with: "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}, {\"type\": \"BertPreTokenizer\"}]}, \"unused\": {"))
        #expect(Self.message { try TokenizerLoader.load(path: bert) } == "\(bert)/tokenizer.json: unsupported pre-tokenizer \"BertPreTokenizer\" (pre_tokenizer.pretokenizers[1].type)")

        let badMerge = try folder("badmerge", base.replacingOccurrences(of: "\"merges\": [\n      [\n        \"Ġ\",\n        \"t\"\n      ]", with: "\"merges\": [[\"Ġ\", \"nope\"]"))
        #expect(Self.message { try TokenizerLoader.load(path: badMerge) } == "\(badMerge)/tokenizer.json: merge \"Ġ nope\" uses a token that is not in the vocabulary (model.merges[0])")

        let badRegex = try folder("badregex", base.replacingOccurrences(of: "\"pre_tokenizer\": {", with: "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(unclosed\"}, \"behavior\": \"Isolated\", \"invert\": false}, \"unused\": {"))
        let rm = Self.message { try TokenizerLoader.load(path: badRegex) } ?? ""
        #expect(rm == "\(badRegex)/tokenizer.json: invalid regex \"(unclosed\": not a regular expression ICU compiles (pre_tokenizer.pattern.Regex)", "\(rm)")
        let badReplace = try folder("badreplace", base.replacingOccurrences(of: "\"normalizer\": null", with: "\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"[a-\"}, \"content\": \"x\"}"))
        #expect(Self.message { try TokenizerLoader.load(path: badReplace) } == "\(badReplace)/tokenizer.json: invalid regex \"[a-\": not a regular expression ICU compiles (normalizer.pattern.Regex)")

        // "merges": null, which tokenizers refuses.
        let nullMerges = try folder("nullmerges", base.replacingOccurrences(of: "\"merges\": [", with: "\"merges\": null, \"unused\": ["))
        #expect(Self.message { try TokenizerLoader.load(path: nullMerges) } == "\(nullMerges)/tokenizer.json: null; expected an array of merges (model.merges)")

        // tokenizer.model: truncated protobuf, and a unigram model.
        let model = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try TokTest.fixture("llama-tiny", "tokenizer.model"))))
        let sp = dir + "/sp"
        try FileManager.default.createDirectory(atPath: sp, withIntermediateDirectories: true)
        try Data(model.prefix(1001)).write(to: URL(fileURLWithPath: sp + "/tokenizer.model"))
        let pm = Self.message { try TokenizerLoader.load(path: sp) } ?? ""
        #expect(pm.hasPrefix("\(sp)/tokenizer.model: malformed SentencePiece model protobuf: ") && pm.contains("(byte "), "\(pm)")

        let uni = dir + "/unigram"
        try FileManager.default.createDirectory(atPath: uni, withIntermediateDirectories: true)
        // A ModelProto with one piece and trainer_spec.model_type = UNIGRAM (1).
        let proto: [UInt8] = [0x0A, 0x09, 0x0A, 0x05] + Array("<unk>".utf8) + [0x18, 0x02, 0x12, 0x02, 0x18, 0x01]
        try Data(proto).write(to: URL(fileURLWithPath: uni + "/tokenizer.model"))
        #expect(Self.message { try TokenizerLoader.load(path: uni) } == "\(uni)/tokenizer.model: unsupported tokenizer model type \"UNIGRAM\"; prune reads BPE (trainer_spec.model_type)")

        // An empty tokenizer.model, and a protobuf without pieces, are not SentencePiece models (not "UNIGRAM").
        let emptySP = dir + "/emptysp"
        try FileManager.default.createDirectory(atPath: emptySP, withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: emptySP + "/tokenizer.model"))
        #expect(Self.message { try TokenizerLoader.load(path: emptySP) } == "\(emptySP)/tokenizer.model: invalid SentencePiece model: the file is empty, not a SentencePiece model")
        try Data([0x12, 0x00]).write(to: URL(fileURLWithPath: emptySP + "/tokenizer.model"))
        #expect(Self.message { try TokenizerLoader.load(path: emptySP) } == "\(emptySP)/tokenizer.model: invalid SentencePiece model: no pieces, not a SentencePiece model")

        // A file that is neither a folder's file nor GGUF.
        let safetensors = try Self.write(Array("not a model at all".utf8), dir, "weights.bin")
        let sm = Self.message { try TokenizerLoader.load(path: safetensors) } ?? ""
        #expect(sm.hasPrefix(safetensors + ": ") && !sm.contains("\n"), "\(sm)")
    }
}
