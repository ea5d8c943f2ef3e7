import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// GGUF vocabularies against llama.cpp (llama-cpp-python 0.3.36, `tokenize(add_bos=True,
/// special=True)` and `llama_detokenize`), checked in as Resources/tokenizer-llamacpp-reference.json.zst:
/// every fixture GGUF, and GGUFs made at test time from the fixtures' vocabularies with the
/// pre-tokenizer types llama-bpe, qwen2, smollm, default, falcon and other flags.
@Suite("GGUFTokenizer") struct GGUFTokenizerTests {
    struct Reference {
        var files: [String: String]
        var references: [String: [[String: Any]]]
        var digest: String
    }

    static func reference() throws -> Reference {
        let (mapped, _) = try ModelInput.mapWhole(TokTest.resource("tokenizer-llamacpp-reference.json.zst"))
        let data = Data(mapped.bytes)
        guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = o["files"] as? [String: String], let refs = o["references"] as? [String: [[String: Any]]],
              let digest = o["texts_sha256"] as? String else { throw TokTest.Failure("bad llama.cpp reference file") }
        return Reference(files: files, references: refs, digest: digest)
    }

    static func digest(_ texts: [String]) -> String {
        let h = SHA256Hasher()
        for t in texts { h.update(Array(t.utf8) + [0]) }
        return h.finalizeHex()
    }

    static func ids(_ s: Any?) -> [Int32]? {
        guard let s = s as? String else { return nil }
        return s.split(separator: " ").compactMap { Int32($0) }
    }

    static func check(_ path: String, _ label: String, _ texts: [String], _ refs: [[String: Any]]) throws {
        let tok = try TokenizerLoader.load(path: path)
        #expect(refs.count == texts.count, "\(label)")
        var bad: [String] = []
        var badDecode: [String] = []
        for (t, r) in zip(texts, refs) {
            let plain = ids(r["p"]) ?? []
            let special = ids(r["s"]) ?? plain
            let gotPlain = tok.encode(t, addSpecialTokens: false)
            let gotSpecial = tok.encode(t)
            if (gotPlain != plain || gotSpecial != special) && bad.count < 5 {
                bad.append("\(JSONText.quote(t)): got \(gotSpecial) want \(special)")
            }
            let want = Array(((r["d"] as? String) ?? t).utf8)
            let d = Array(tok.decode(plain).utf8)
            // llama.cpp cleans up spaces before punctuation for most gpt2 pre types; our decode
            // gives the text back, which llama.cpp's clean-up turns into its output.
            let explained = tok.family == .ggufGPT2 && d == Array(t.utf8) && Self.llamaCppCleanSpaces(d) == want
            if d != want && !explained && badDecode.count < 5 { badDecode.append("\(JSONText.quote(t)): got \(JSONText.quote(String(decoding: d, as: UTF8.self))) want \(JSONText.quote(String(decoding: want, as: UTF8.self)))") }
        }
        #expect(bad.isEmpty, "\(label): \(bad)")
        #expect(badDecode.isEmpty, "\(label) decode: \(badDecode)")
    }

    /// llama.cpp's `clean_spaces` passes of `llama_detokenize` (an independent transcription).
    static func llamaCppCleanSpaces(_ input: [UInt8]) -> [UInt8] {
        var t = input
        // " ?", " !", " .", " ," lose the space.
        var out: [UInt8] = t.isEmpty ? [] : [t[0]]
        for i in 1..<max(t.count, 1) where i < t.count {
            if t[i - 1] == 0x20 && [0x3F, 0x21, 0x2E, 0x2C].contains(t[i]) { out.removeLast() }
            out.append(t[i])
        }
        t = out
        // " ' " becomes "'".
        out = t.isEmpty ? [] : [t[0]]
        var i = 1
        while i < t.count {
            if t[i] == 0x27 && i + 1 < t.count && t[i - 1] == 0x20 && t[i + 1] == 0x20 {
                out.removeLast(); out.append(0x27); i += 2; continue
            }
            out.append(t[i]); i += 1
        }
        t = out
        // " 's", " 'm", " 're", " 've" lose the space.
        out = t.isEmpty ? [] : [t[0]]
        for i in 1..<max(t.count, 1) where i < t.count {
            if t[i - 1] == 0x20 && t[i] == 0x27 && i + 1 < t.count {
                let a = t[i + 1]
                if a == 0x73 || a == 0x6D { out.removeLast() }
                else if i + 2 < t.count && ((a == 0x72 && t[i + 2] == 0x65) || (a == 0x76 && t[i + 2] == 0x65)) { out.removeLast() }
            }
            out.append(t[i])
        }
        return out
    }

    @Test("every fixture GGUF (f32, f16, q8_0, q4_k_m of both fixtures) gives llama.cpp's ids and decoded text on the stress list and both heldout files")
    func fixtureGGUFs() throws {
        let ref = try Self.reference()
        let texts = try TokTest.allTexts()
        #expect(Self.digest(texts) == ref.digest, "the texts changed since the llama.cpp reference was made")
        let names = ref.files.keys.filter { $0.hasSuffix(".gguf") }.sorted()
        #expect(names.count == 8)
        for name in names {
            guard let key = ref.files[name], let refs = ref.references[key] else { throw TokTest.Failure("no reference for \(name)") }
            let parts = name.split(separator: "/").map(String.init)
            try Self.check(try TokTest.fixture(parts[0], parts[1]), name, texts, refs)
        }
    }

    @Test("gpt2 vocabularies with pre-tokenizer types llama-bpe (with and without BOS), qwen2, smollm, default, falcon, and llama vocabularies without space prefix or with EOS, give llama.cpp's ids")
    func syntheticGGUFs() throws {
        let ref = try Self.reference()
        let texts = try TokTest.allTexts()
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let made = try JSONSerialization.jsonObject(with: try TokTest.python(["synthetic-ggufs", dir])) as? [String: String] else {
            throw TokTest.Failure("synthetic-ggufs output")
        }
        #expect(made.count == 8)
        for (name, path) in made.sorted(by: { $0.key < $1.key }) {
            guard let key = ref.files[name], let refs = ref.references[key] else { throw TokTest.Failure("no reference for \(name)") }
            try Self.check(path, name, texts, refs)
        }
    }

    @Test("a zstd-compressed GGUF loads like the plain one")
    func compressed() throws {
        let src = try TokTest.fixture("llama-tiny", "model-q8_0.gguf")
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/model.gguf.zst"
        let r = try TestProcess.run("/usr/bin/env", ["zstd", "-q", "-1", src, "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try TokenizerLoader.load(path: src), b = try TokenizerLoader.load(path: out)
        for t in try TokTest.stressTexts() { #expect(a.encode(t) == b.encode(t)) }
        #expect(b.vocabularySize == 4096 && b.addsBOS && b.bosTokenID == 1 && b.eosTokenID == 2)
    }
}
