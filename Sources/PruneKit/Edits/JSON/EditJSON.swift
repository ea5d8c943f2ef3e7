import Foundation
import PruneFormats

/// A parsed JSON value, keeping object keys in their written order.
///
/// Numbers are kept as `Double` (parsed with correct rounding); the literals `NaN`, `Infinity` and
/// `-Infinity` (which Python's json module writes) are accepted here as non-finite numbers so that
/// the manifest reader can report them as such, with the place they occur.
enum EditJSON: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([EditJSON])
    case object([(key: String, value: EditJSON)])

    /// A short name of the value's type for messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    subscript(key: String) -> EditJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }
}

/// A JSON syntax error at a 0-based byte offset of the parsed text.
struct EditJSONSyntaxError: Error, Sendable {
    var offset: Int
    var reason: String
}

/// A strict RFC 8259 parser (plus the three non-finite literals) over UTF-8 bytes.
/// Duplicate object keys are an error; nesting deeper than `maxDepth` is an error (never a crash).
struct EditJSONParser {
    static let maxDepth = 64
    private let bytes: [UInt8]
    private var pos = 0
    /// NUL-terminated copy of the number being converted (C locale: the decimal point is '.').
    private var scratch = [CChar](repeating: 0, count: 64)

    static func parse(_ bytes: [UInt8]) throws(EditJSONSyntaxError) -> EditJSON {
        var p = EditJSONParser(bytes: bytes)
        p.skipWhitespace()
        let value = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos < p.bytes.count { throw EditJSONSyntaxError(offset: p.pos, reason: "unexpected text after the value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipWhitespace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x09 || bytes[pos] == 0x0A || bytes[pos] == 0x0D { pos += 1 }
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> EditJSONSyntaxError {
        EditJSONSyntaxError(offset: offset ?? pos, reason: reason)
    }

    private mutating func parseValue(depth: Int) throws(EditJSONSyntaxError) -> EditJSON {
        guard depth < EditJSONParser.maxDepth else { throw fail("nesting deeper than \(EditJSONParser.maxDepth) levels") }
        guard pos < bytes.count else { throw fail("unexpected end of line") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"): try literal("NaN"); return .number(.nan)
        case UInt8(ascii: "I"): try literal("Infinity"); return .number(.infinity)
        case UInt8(ascii: "-") where pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "I"):
            pos += 1; try literal("Infinity"); return .number(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character \(describe(bytes[pos]))")
        }
    }

    private func describe(_ b: UInt8) -> String {
        (0x21...0x7E).contains(b) ? "'\(Character(UnicodeScalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }

    private mutating func literal(_ word: String) throws(EditJSONSyntaxError) {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("unexpected character \(describe(bytes[pos]))") }
        pos += w.count
    }

    private mutating func parseObject(depth: Int) throws(EditJSONSyntaxError) -> EditJSON {
        pos += 1
        var members: [(key: String, value: EditJSON)] = []
        var seen = Set<String>()
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail(pos < bytes.count ? "expected a quoted key" : "unexpected end of line") }
            let keyOffset = pos
            let key = try parseString()
            guard seen.insert(key).inserted else { throw fail("duplicate key \(quoted(key))", at: keyOffset) }
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append((key, value))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of line (unclosed object)") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws(EditJSONSyntaxError) -> EditJSON {
        pos += 1
        var items: [EditJSON] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of line (unclosed array)") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array")
        }
    }

    private mutating func parseNumber() throws(EditJSONSyntaxError) -> Double {
        let start = pos
        func digits() -> Int { let s = pos; while pos < bytes.count, (0x30...0x39).contains(bytes[pos]) { pos += 1 }; return pos - s }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, (0x30...0x39).contains(bytes[pos]) else { throw fail("a number needs digits") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, (0x30...0x39).contains(bytes[pos]) { throw fail("a number must not have leading zeros", at: start) }
        } else { _ = digits() }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw fail("a number needs digits after '.'") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw fail("a number needs digits in its exponent") }
        }
        // strtod rounds correctly (glibc); an exponent too large gives ±inf, which callers report.
        // The grammar above already accepted the text, so strtod consumes all of it.
        let length = pos - start
        if length < scratch.count {
            for k in 0..<length { scratch[k] = CChar(bitPattern: bytes[start + k]) }
            scratch[length] = 0
            return scratch.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard let value = Double(text) else { throw fail("malformed number", at: start) }
        return value
    }

    private mutating func parseString() throws(EditJSONSyntaxError) -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail("unterminated string", at: start) }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") { pos += 1; break }
            if b < 0x20 { throw fail("control character in a string") }
            if b != UInt8(ascii: "\\") { out.append(b); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { throw fail("unterminated string", at: start) }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate in \\u escape") }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw fail("unpaired surrogate in \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("invalid escape '\\\(describe(e))'")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string", at: start) }
        return s
    }

    private mutating func hex4() throws(EditJSONSyntaxError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }
}
