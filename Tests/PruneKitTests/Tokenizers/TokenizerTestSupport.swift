import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// Helpers of the tokenizer tests: fixtures, text lists, the Python reference script.
enum TokTest {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixtures: String { TestEnvironment.fixtures }
    typealias Failure = TestFailure

    /// A fixture path; a missing fixture is a failure, never a skip.
    static func fixture(_ model: String, _ file: String? = nil) throws -> String { try TestEnvironment.fixture(model, file ?? "") }

    static func tempDir() throws -> String { try TestEnvironment.tempDir("tok") }

    static func resource(_ name: String) -> String { TestEnvironment.resource(name) }

    /// The stress list (Tests/PruneKitTests/Resources/tokenizer-stress.json).
    static func stressTexts() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: resource("tokenizer-stress.json")))
        guard let list = try JSONSerialization.jsonObject(with: data) as? [String] else { throw Failure("stress list is not an array of strings") }
        return list
    }

    /// The lines of a fixture's heldout.txt (split on LF only, as Python's line iteration with rstrip("\n")).
    static func heldout(_ model: String) throws -> [String] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixture(model, "heldout.txt"))))
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Stress list + both fixtures' heldout lines.
    static func allTexts() throws -> [String] {
        try stressTexts() + heldout("gpt2-tiny") + heldout("llama-tiny")
    }

    static func writeTexts(_ texts: [String], in dir: String) throws -> String {
        let path = dir + "/texts.json"
        let json = "[" + texts.map(JSONText.quote).joined(separator: ",\n") + "]"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs `python3 Tests/scripts/tokenizer_reference.py args…`; returns stdout.
    static func python(_ args: [String]) throws -> Data { try TestProcess.python("tokenizer_reference.py", args).stdout }

    /// One text's reference: ids without added special tokens, with them, and the decoded text.
    struct Ref {
        var plain: [Int32]
        var special: [Int32]?
        var decoded: String?
    }

    static func refs(_ any: Any?) throws -> [Ref] {
        guard let list = any as? [[String: Any]] else { throw Failure("reference is not a list of objects") }
        return try list.map { o in
            guard let plain = o["plain"] as? [Int] else { throw Failure("reference without plain ids") }
            return Ref(plain: plain.map(Int32.init), special: (o["special"] as? [Int])?.map(Int32.init), decoded: o["decoded"] as? String)
        }
    }

    static func refs(_ data: Data) throws -> [Ref] { try refs(try JSONSerialization.jsonObject(with: data)) }

    /// Compares ids for every text; returns a description of the first few mismatches.
    static func mismatches(_ texts: [String], _ got: (String) -> [Int32], _ want: [[Int32]?], limit: Int = 5) -> [String] {
        var out: [String] = []
        for (t, w) in zip(texts, want) {
            guard let w else { continue }
            let g = got(t)
            if g != w && out.count < limit { out.append("\(JSONText.quote(t)): got \(g) want \(w)") }
        }
        return out
    }
}
