import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// Helpers of the tokenizer tests: fixtures, text lists, the Python reference script.
enum TokTest {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var fixtures: String {
        if let e = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"], !e.isEmpty { return e }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// A fixture path; a missing fixture is a failure, never a skip.
    static func fixture(_ model: String, _ file: String? = nil) throws -> String {
        let p = fixtures + "/" + model + (file.map { "/" + $0 } ?? "")
        guard FileManager.default.fileExists(atPath: p) else { throw Failure("fixture missing: \(p)") }
        return p
    }

    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("prune-tok-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    static func resource(_ name: String) -> String { packageRoot.appendingPathComponent("Tests/PruneKitTests/Resources/" + name).path }

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
    static func python(_ args: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageRoot.appendingPathComponent("Tests/scripts/tokenizer_reference.py").path] + args
        p.currentDirectoryURL = packageRoot
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = dir + "/out", errPath = dir + "/err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let o = FileHandle(forWritingAtPath: outPath), e = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = o
        p.standardError = e
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try? o?.close()
        try? e?.close()
        let out = FileManager.default.contents(atPath: outPath) ?? Data()
        guard p.terminationStatus == 0 else {
            let err = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
            throw Failure("tokenizer_reference.py \(args.first ?? "") failed (\(p.terminationStatus)): \(err.suffix(2000))")
        }
        return out
    }

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
