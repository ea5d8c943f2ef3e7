import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// Our splitters against Oniguruma (the engine of Hugging Face `tokenizers`, through its
/// `Split(Regex(…), "isolated")`): the hand-coded GPT-2 / Llama-3 / Qwen2 / digit splitters, and
/// ICU (NSRegularExpression, used for any other pattern) on the same patterns, on the stress list
/// and both heldout files.
@Suite("PreTokenizerRegex") struct PreTokenizerRegexTests {
    static func pieces(_ splitter: any TextSplitter, _ text: String) -> [[UInt8]] {
        var t = PreTokenizedText(bytes: Array(text.utf8), startsInput: true)
        PreTokenizer.split(splitter, .isolated, invert: false).apply(&t)
        return t.pieces.map { Array(t.bytes[$0]) }
    }

    static let patterns: [String] = [
        KnownPatterns.gpt2, KnownPatterns.llama3, KnownPatterns.qwen2, KnownPatterns.llama3LlamaCpp,
        #"\p{N}"#, #"\p{N}+"#, #"\p{N}{1,3}"#, KnownPatterns.punctuationRun, "[0-9][0-9][0-9]",
        #"\p{L}+|\p{N}+|\s+|[^\s\p{L}\p{N}]+"#, #"\s+(?!\S)|\s+"#, #"\S+"#, #"\w+|[^\w\s]+"#, #"\d+"#, #" ?[^\s\p{L}\p{N}]+[\r\n]*"#,
    ]

    @Test("hand-coded splitters and ICU give Oniguruma's pieces for the GPT-2, Llama-3, Qwen2, digit and other patterns")
    func againstOniguruma() throws {
        let texts = try TokTest.allTexts()
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try TokTest.writeTexts(texts, in: dir)
        for pattern in Self.patterns {
            guard let want = try JSONSerialization.jsonObject(with: try TokTest.python(["split", pattern, path])) as? [[String]] else {
                throw TokTest.Failure("split output")
            }
            #expect(want.count == texts.count)
            var splitters: [(String, any TextSplitter)] = [("ICU", try RegexSplitter(pattern: pattern))]
            if let known = KnownPatterns.splitter(for: pattern) { splitters.append(("hand-coded", known)) }
            for (label, s) in splitters {
                var bad: [String] = []
                for (t, w) in zip(texts, want) {
                    let got = Self.pieces(s, t)
                    if got != w.map({ Array($0.utf8) }) && bad.count < 3 {
                        bad.append("\(JSONText.quote(t)): got \(got.map { JSONText.quote(String(decoding: $0, as: UTF8.self)) })")
                    }
                }
                #expect(bad.isEmpty, "\(label) \(pattern): \(bad)")
            }
        }
    }

    @Test("the well-known patterns are recognised and not run by ICU")
    func knownPatterns() {
        #expect(KnownPatterns.splitter(for: KnownPatterns.gpt2) is GPT2Splitter)
        #expect((KnownPatterns.splitter(for: KnownPatterns.llama3) as? Llama3Splitter)?.maxDigits == 3)
        #expect((KnownPatterns.splitter(for: KnownPatterns.qwen2) as? Llama3Splitter)?.maxDigits == 1)
        #expect(KnownPatterns.splitter(for: #"\p{L}+"#) == nil)
    }
}
