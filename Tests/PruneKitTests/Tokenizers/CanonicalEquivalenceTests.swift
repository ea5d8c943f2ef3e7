import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// Pieces that Swift `String ==` calls equal (canonical equivalence) but that are distinct tokens:
/// the real Llama-2 / Phi-3 vocabularies hold both "ί" U+03AF and "ί" U+1F77.
@Suite struct CanonicalEquivalenceTests {
    static let extra = ["\u{03AF}", "\u{1F77}", "\u{00E9}", "e\u{0301}", "\u{0301}"]   // ids 4096...4100

    /// llama-tiny's tokenizer.json with the extra pieces and the merge ["e", U+0301] first; the
    /// same textual edit as Tests/scripts/canonical_pieces_ref.py.
    static func editedFolder() throws -> String {
        let src = try TokTest.fixture("llama-tiny")
        var text = try String(contentsOfFile: src + "/tokenizer.json", encoding: .utf8)
        func insert(after marker: String, _ s: String) throws {
            guard let r = text.range(of: marker, options: .literal) else { throw TokTest.Failure("no \(marker) in tokenizer.json") }
            text.insert(contentsOf: s, at: r.upperBound)
        }
        try insert(after: "\"vocab\": {", extra.enumerated().map { "\"\($0.element)\": \(4096 + $0.offset), " }.joined())
        try insert(after: "\"merges\": [", "[\"e\", \"\u{0301}\"], ")
        let dir = try TokTest.tempDir()
        try text.write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: src + "/tokenizer_config.json", toPath: dir + "/tokenizer_config.json")
        return dir
    }

    @Test func distinctPiecesKeepTheirOwnIDs() throws {
        let dir = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tok = try TokenizerLoader.load(path: dir)
        for (k, p) in Self.extra.enumerated() {
            #expect(tok.id(forPiece: p) == Int32(4096 + k), "piece \(p.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(Array(tok.piece(for: Int32(4096 + k)).utf8) == Array(p.utf8))
        }
        // Reference: Hugging Face tokenizers 0.x on the same file (Tests/scripts/canonical_pieces_ref.py).
        let cases: [(String, [Int32])] = [
            ("\u{03AF}", [1, 3999, 4096]),
            ("\u{1F77}", [1, 3999, 4097]),
            ("\u{00E9}", [1, 3999, 4098]),
            ("e\u{0301}", [1, 3999, 4099]),
            ("\u{03AF}\u{1F77} \u{00E9}e\u{0301} caf\u{00E9} cafe\u{0301}", [1, 3999, 4096, 4097, 3999, 4098, 4099, 1852, 4017, 4098, 1852, 4017, 4099]),
        ]
        for (text, ids) in cases {
            let got = tok.encode(text)
            #expect(got == ids, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(Array(tok.decode(got, skipSpecialTokens: true).utf8) == Array(text.utf8))   // tokenizers decodes to the text
        }
    }

    @Test func canonicallyEquivalentJSONKeysAreNotDuplicates() throws {
        let text = "{\"\u{03AF}\": 1, \"\u{1F77}\": 2, \"\u{00E9}\": 3, \"e\u{0301}\": 4}"
        let node = try JSONNodeParser.parse(Array(text.utf8))
        guard case .object(let members) = node else { throw TokTest.Failure("not an object") }
        #expect(members.map { Array($0.key.utf8) } == ["\u{03AF}", "\u{1F77}", "\u{00E9}", "e\u{0301}"].map { Array($0.utf8) })
        #expect(node["\u{1F77}"]?.nonNegativeInt == 2)
        #expect(node["e\u{0301}"]?.nonNegativeInt == 4)
        // A byte-identical key is still a duplicate.
        #expect(throws: JSONNodeParser.Failure.self) { try JSONNodeParser.parse(Array("{\"\u{1F77}\": 1, \"\u{1F77}\": 2}".utf8)) }
    }
}
