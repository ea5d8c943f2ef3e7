import Foundation
import Testing
@testable import PruneFormats

/// The one JSON parser (safetensors headers, edit manifests, adapter configs): member order,
/// duplicate keys, line and column of errors, the non-finite literals only when asked for.
@Suite struct JSONNodeParserTests {
    static func fail(_ text: String, _ options: JSONNodeParser.Options = .init()) -> JSONNodeParser.Failure? {
        do { _ = try JSONNodeParser.parse(Array(text.utf8), options: options); return nil } catch { return error }
    }

    @Test func keepsOrderAndNumberText() throws {
        let v = try JSONNodeParser.parse(Array("{\"b\": 1, \"a\": [2.50, -0.0, 1e999], \"c\": null}".utf8))
        guard case .object(let members) = v else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(v["a"] == .array([.number("2.50"), .number("-0.0"), .number("1e999")]))
        #expect(v["a"].map { if case .array(let a) = $0 { return a.map { $0.doubleValue ?? 0 } }; return [] } == [2.5, -0.0, .infinity])
        #expect(v["b"]?.typeName == "a number" && v["c"]?.typeName == "null")
    }

    @Test func duplicateKeysAreErrors() {
        let f = Self.fail("{\n  \"a\": 1,\n  \"a\": 2\n}")
        #expect(f?.kind == .duplicateKey("a"))
        #expect(f?.offset == 14 && f?.line == 3 && f?.column == 3)   // hand-counted
        #expect(f?.message == "duplicate key \"a\"")
    }

    @Test func errorsGiveLineAndColumn() {
        // Hand-counted: line 3 is "  [1, 2,, 3]"; the second ',' of ",," is at column 9 (byte 16).
        let f = Self.fail("{\n \"x\":\n  [1, 2,, 3]\n}")
        #expect(f?.offset == 16 && f?.line == 3 && f?.column == 9, "\(String(describing: f))")
        #expect(f?.message == "unexpected character ','")
        let g = Self.fail("[1, 2")
        #expect(g?.line == 1 && g?.column == 6 && g?.message == "unexpected end of JSON inside an array")
        #expect(Self.fail("[01]")?.message == "a number must not have leading zeros")
        #expect(Self.fail("{} x")?.message == "unexpected text after the value")
        #expect(Self.fail(String(repeating: "[", count: 200))?.kind == .tooDeep(128))
    }

    @Test func nonFiniteLiteralsOnlyWhenAsked() throws {
        for text in ["NaN", "Infinity", "-Infinity"] {
            // Strict (safetensors headers): not JSON.
            #expect(Self.fail("[\(text)]")?.message == (text.hasPrefix("-") ? "a number needs digits" : "unexpected character '\(text.prefix(1))'"), "\(text)")
            let v = try JSONNodeParser.parse(Array("[\(text)]".utf8), options: .lenientNumbers)
            guard case .array(let a) = v, let d = a.first?.doubleValue else { Issue.record("\(text)"); continue }
            #expect(text == "NaN" ? d.isNaN : d == (text.hasPrefix("-") ? -Double.infinity : .infinity))
        }
        #expect(Self.fail("[-Inf]", .lenientNumbers)?.column == 2)
        #expect(Self.fail("[Nan]", .lenientNumbers)?.message == "unexpected character 'N'")
    }
}
