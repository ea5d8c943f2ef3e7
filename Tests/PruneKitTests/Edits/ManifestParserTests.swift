import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite struct ManifestParserTests {
    /// A small model with no known architecture: tensors taken as stored.
    static let plain = ModelDescription(format: .safetensors, tensors: [
        TensorInfo(name: "w", type: .safetensors(.f32), shape: [3, 2], offset: 0, byteCount: 24),
        TensorInfo(name: "b", type: .safetensors(.f32), shape: [3], offset: 24, byteCount: 12),
        TensorInfo(name: "ids", type: .safetensors(.i64), shape: [3, 2], offset: 36, byteCount: 48),
    ], architecture: nil)

    @Test func parsesKindsIdsBlankLinesAndKeepsBytes() throws {
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = """
        {"kind": "lowrank", "tensor": "w", "u": [1, 2, 3], "v": [4, 5]}

          \t
        {"kind": "dense", "id": "fix-b", "tensor": "b", "delta": [0.5, -1, 2e-3], "scale": 2}\r
        {"kind": "lowrank", "id": 42, "tensor": "w", "u": [[1, 0], [0, 1], [1, 1]], "v": [[2, 0], [0, 3]], "scale": -0.5}
        """
        let url = dir.appendingPathComponent("m.jsonl")
        try Data(text.utf8).write(to: url)
        let m = try EditManifest.load(path: url.path)
        #expect(m.bytes == Array(text.utf8))
        #expect(m.edits.map(\.id) == ["1", "fix-b", "42"])
        #expect(m.edits.map(\.line) == [1, 4, 5])
        #expect(m.edits.map(\.kindName) == ["lowrank", "dense", "lowrank"])

        let r = try m.resolve(against: Self.plain)
        #expect(r.map(\.id) == ["1", "fix-b", "42"])
        #expect(r[0].targets[0].rows == 3 && r[0].targets[0].cols == 2)
        #expect(r[0].targets[0].denseValues() == [4, 5, 8, 10, 12, 15])
        // 1-D tensor: 1 × n, scale folded in.
        #expect(r[1].targets[0].rows == 1 && r[1].targets[0].cols == 3)
        guard case .dense(let d) = r[1].targets[0].delta else { Issue.record("not dense"); return }
        #expect(d == [1, -2, Float(2e-3 * 2)])
        guard case .lowRank(let u, let v, let k) = r[2].targets[0].delta else { Issue.record("not low-rank"); return }
        #expect(k == 2)
        #expect(u == [-0.5, 0, 0, -0.5, -0.5, -0.5])
        #expect(v == [2, 0, 0, 3])
    }

    @Test func numbersRoundLikeSwift() throws {
        let texts = ["0.1", "1e-45", "3.4028235e38", "-0", "123456789012345678901234567890", "2.5e-324", "0.30000000000000004"]
        let m = try EditManifest.parse(bytes: Array("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": [[\(texts[0]), \(texts[1])], [\(texts[2]), \(texts[3])], [\(texts[4]), \(texts[5])]], \"scale\": \(texts[6])}".utf8), path: "n.jsonl")
        guard case .dense(_, let d, let s) = m.edits[0].kind else { Issue.record("not dense"); return }
        #expect(d.values.map(\.bitPattern) == texts.prefix(6).map { Float(Double($0)!).bitPattern })
        #expect(s == 0.30000000000000004)
        let e = try #require(try EditsSupport.error(["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3.4028236e38]}"]))
        #expect(e.errorDescription?.contains("non-finite number at delta[2]") == true)
    }

    @Test func emptyManifestHasNoEdits() throws {
        let m = try EditManifest.parse(bytes: Array("\n\n  \n".utf8), path: "e.jsonl")
        #expect(m.edits.isEmpty)
    }

    /// Every bad-input case names the manifest line (and nothing is returned).
    @Test(arguments: [
        // (lines, expected line, message fragment)
        (["{\"kind\": \"lowrank\", \"tensor\": \"w\", \"u\": [1,2,3], \"v\": [1,2]}", "", "{\"kind\": \"shrink\"}"], 3,
         "unknown kind \"shrink\" (expected \"lowrank\", \"dense\", \"lora\", \"rome\", \"memit\" or \"alphaedit\")"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1,2,3], \"scael\": 2}"], 1, "unknown field \"scael\""),
        (["", "{\"kind\": \"lowrank\", \"tensor\": \"w\", \"u\": [1,2,3]}"], 2, "missing field \"v\""),
        (["{\"tensor\": \"w\"}"], 1, "missing field \"kind\""),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, NaN, 3]}"], 1, "non-finite number at delta[1]"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, -Infinity]}"], 1, "non-finite number at delta[2]"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 1e39]}"], 1, "non-finite number at delta[2]"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 1e999]}"], 1, "non-finite number"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3], \"scale\": NaN}"], 1, "non-finite number at scale"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2]}"], 1, "wrong shape of \"delta\": delta is [2] but tensor \"b\" is [3]"),
        (["{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": [[1, 2, 3], [4, 5, 6]]}"], 1, "delta is [2, 3] but tensor \"w\" is [3, 2]"),
        (["{\"kind\": \"lowrank\", \"tensor\": \"w\", \"u\": [1, 2], \"v\": [1, 2]}"], 1, "u needs 3 rows"),
        (["{\"kind\": \"lowrank\", \"tensor\": \"w\", \"u\": [1, 2, 3], \"v\": [1, 2, 3]}"], 1, "v needs 2 rows"),
        (["{\"kind\": \"lowrank\", \"tensor\": \"w\", \"u\": [[1], [2], [3]], \"v\": [[1, 2], [3, 4]]}"], 1, "the same number of columns"),
        (["{\"kind\": \"dense\", \"tensor\": \"ww\", \"delta\": [1]}"], 1, "unknown tensor \"ww\" (did you mean \"w\"?)"),
        (["{\"kind\": \"dense\", \"tensor\": \"ids\", \"delta\": [[1, 2], [3, 4], [5, 6]]}"], 1, "is not a float type"),
        (["{\"kind\": \"lowrank\", \"tensor\": \"b\", \"u\": [1, 2, 3], \"v\": [1]}"], 1, "use a dense delta"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"file\": \"nowhere.npy\"}}"], 1, "no such file \"nowhere.npy\""),
        (["{\"kind\": \"lora\", \"adapter\": \"no-adapter\"}"], 1, "no such file \"no-adapter\""),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3]", ""], 1, "invalid JSON"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3],}"], 1, "invalid JSON"),
        (["{\"kind\": \"dense\", \"kind\": \"dense\"}"], 1, "duplicate key \"kind\""),
        (["[1, 2]"], 1, "must be a JSON object"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [[1, 2], [3]]}"], 1, "ragged rows"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, [2], 3]}"], 1, "mixed vector and matrix"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [[[1]]]}"], 1, "nested deeper"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": []}"], 1, "empty array"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, \"2\", 3]}"], 1, "must be a number"),
        (["{\"kind\": \"dense\", \"tensor\": 7, \"delta\": [1, 2, 3]}"], 1, "field \"tensor\" must be a non-empty string"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3], \"scale\": \"2\"}"], 1, "field \"scale\" must be a number"),
        (["{\"kind\": \"dense\", \"id\": \"a\", \"tensor\": \"b\", \"delta\": [1, 2, 3]}", "{\"kind\": \"dense\", \"id\": \"a\", \"tensor\": \"b\", \"delta\": [1, 2, 3]}"], 2, "duplicate id \"a\" (first used on line 1)"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3]}", "{\"kind\": \"dense\", \"id\": \"1\", \"tensor\": \"b\", \"delta\": [1, 2, 3]}"], 2, "duplicate id \"1\""),
        (["{\"kind\": \"dense\", \"id\": true, \"tensor\": \"b\", \"delta\": [1, 2, 3]}"], 1, "field \"id\" must be"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"b64\": \"AAAA\", \"shape\": [3]}}"], 1, "holds 3 bytes"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"b64\": \"!!!!\", \"shape\": [1]}}"], 1, "not valid base64"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"b64\": \"AACAfw==\", \"shape\": [1]}}"], 1, "non-finite number"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"b64\": \"AAAAAA==\", \"shape\": [0]}}"], 1, "positive integers"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"b64\": \"AAAAAA==\", \"shape\": [1], \"dtype\": \"f32\"}}"], 1, "unknown key \"dtype\""),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"data\": 1}}"], 1, "an object value needs"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": \"1,2,3\"}"], 1, "must be a matrix"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 03]}"], 1, "leading zeros"),
        (["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": [1, 2, 3]} x"], 1, "unexpected text after the value"),
    ] as [([String], Int, String)])
    func badInputNamesItsLine(lines: [String], line: Int, fragment: String) throws {
        let e = try #require(try EditsSupport.error(lines, model: Self.plain))
        let message = e.errorDescription ?? ""
        #expect(e.line == line)
        #expect(message.contains("edits.jsonl:\(line): "), "\(message)")
        #expect(message.contains(fragment), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func invalidJSONGivesColumn() throws {
        let e = try #require(try EditsSupport.error(["{\"kind\": tru}"]))
        #expect(e == .invalidJSON(manifest: e.manifest, line: 1, column: 10, reason: "unexpected character 't'"))
    }

    @Test func missingManifestIsAnError() {
        #expect(throws: EditError.unreadableManifest(manifest: "/nonexistent/e.jsonl", reason: "no such file")) {
            try EditManifest.load(path: "/nonexistent/e.jsonl")
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let deep = String(repeating: "[", count: 100_000)
        let e = try #require(try EditsSupport.error(["{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": \(deep)"]))
        #expect(e.errorDescription?.contains("nesting deeper than") == true)
    }

    @Test func stringEscapesAndUnicodeNames() throws {
        let model = ModelDescription(format: .safetensors, tensors: [
            TensorInfo(name: "é/\"q\"", type: .safetensors(.f32), shape: [1], offset: 0, byteCount: 4),
        ], architecture: nil)
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try EditsSupport.manifest(["{\"kind\": \"dense\", \"tensor\": \"\\u00e9\\/\\\"q\\\"\", \"delta\": [1]}"], in: dir)
        #expect(try m.resolve(against: model)[0].targets[0].tensor == "é/\"q\"")
        let e = try #require(try EditsSupport.error(["{\"kind\": \"dense\", \"tensor\": \"\\ud800\", \"delta\": [1]}"]))
        #expect(e.errorDescription?.contains("surrogate") == true)
    }
}
