import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// `prune-tokenize` / `prune tokenize`: JSON lines and plain output, standard input, bad input.
@Suite("TokenizeCLI") struct TokenizeCLITests {
    @Test("--json prints one {text, ids, pieces} line per text, equal to the library's ids; '-' reads standard input as one text")
    func jsonLines() throws {
        let exe = try ReportTest.binary("prune-tokenize")
        let model = try TokTest.fixture("llama-tiny")
        let r = try ReportTest.run(exe, [model, "Hello, world", "<s>tab\there", "--json"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let tok = try TokenizerLoader.load(path: model)
        for (line, text) in zip(lines, ["Hello, world", "<s>tab\there"]) {
            let o = try ReportTest.parseJSON(line)
            #expect(o["text"] as? String == text)
            let ids = (o["ids"] as? [Int])?.map(Int32.init)
            #expect(ids == tok.encode(text))
            #expect(o["pieces"] as? [String] == tok.encode(text).map { tok.piece(for: $0) })
        }
        let stdin = try ReportTest.sh("printf 'one\\ntwo\\n' | '\(exe)' '\(model)' - --json --no-special-tokens")
        #expect(stdin.status == 0)
        let o = try ReportTest.parseJSON(stdin.stdout)
        #expect(o["text"] as? String == "one\ntwo\n")
        #expect((o["ids"] as? [Int])?.map(Int32.init) == tok.encode("one\ntwo\n", addSpecialTokens: false))
    }

    @Test("plain output: the quoted text and its count, then id and quoted piece per token; also as 'prune tokenize'")
    func plainOutput() throws {
        let model = try TokTest.fixture("gpt2-tiny", "model-q8_0.gguf")
        let r = try ReportTest.run(try ReportTest.binary("prune-tokenize"), [model, "Hello <|endoftext|>"])
        #expect(r.status == 0)
        #expect(r.stdout == """
            "Hello <|endoftext|>": 5 tokens
               40  "H"
              473  "ell"
               79  "o"
              221  "Ġ"
                0  "<|endoftext|>"  (special)

            """)
        let sub = try ReportTest.run(try ReportTest.binary("prune"), ["tokenize", model, "Hello <|endoftext|>"])
        #expect(sub.status == 0 && sub.stdout == r.stdout)
    }

    @Test("bad input: one line naming the file and the place, exit 1, nothing on stdout; no TEXT is a usage error (64)")
    func badInput() throws {
        let exe = try ReportTest.binary("prune-tokenize")
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ReportTest.run(exe, [dir, "text"])
        #expect(r.status == 1 && r.stdout.isEmpty)
        #expect(r.stderr == "prune-tokenize: \(dir): no tokenizer: neither tokenizer.json nor tokenizer.model is in the folder\n")
        let gguf = dir + "/x.gguf"
        try Data(TokenizerErrorTests.gguf([("general.architecture", .string("llama"))])).write(to: URL(fileURLWithPath: gguf))
        let g = try ReportTest.run(exe, [gguf, "text", "--json"])
        #expect(g.status == 1 && g.stdout.isEmpty && g.stderr.split(separator: "\n").count == 1)
        #expect(g.stderr.contains("GGUF without tokenizer metadata"))
        let usage = try ReportTest.run(exe, [try TokTest.fixture("gpt2-tiny")])
        #expect(usage.status == 64)
        let bin = try ReportTest.sh("printf '\\377\\376' | '\(exe)' '\(try TokTest.fixture("gpt2-tiny"))' -")
        #expect(bin.status == 1 && bin.stderr == "prune-tokenize: <stdin>: the text is not valid UTF-8\n")
    }
}
