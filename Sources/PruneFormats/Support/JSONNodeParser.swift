/// A strict RFC 8259 parser (as strict as serde_json): UTF-8 input, no trailing commas, no leading
/// zeros, no control characters or lone surrogates in strings, bounded nesting, and duplicate object
/// keys reported (not silently merged).
public struct JSONNodeParser {
    public struct Failure: Error, Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case syntax(String)
            case duplicateKey(String)
            case tooDeep
        }
        public var kind: Kind
        /// Byte offset in the parsed text.
        public var offset: Int

        public var message: String {
            switch kind {
            case .syntax(let m): return m
            case .duplicateKey(let k): return "duplicate key \"\(k)\""
            case .tooDeep: return "nesting deeper than \(JSONNodeParser.maxDepth) levels"
            }
        }
    }

    public static let maxDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private var pos = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one JSON document; only whitespace may follow it.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONNode {
        var p = JSONNodeParser(bytes)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos != bytes.count { throw Failure(kind: .syntax("unexpected data after the JSON value"), offset: p.pos) }
        return v
    }

    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONNode {
        let result: Result<JSONNode, Failure> = bytes.withUnsafeBytes { b in
            Result { () throws(Failure) -> JSONNode in try parse(b) }
        }
        return try result.get()
    }

    private func fail(_ message: String, at offset: Int? = nil) -> Failure {
        Failure(kind: .syntax(message), offset: offset ?? pos)
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { pos += 1 } else { break }
        }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONNode {
        guard pos < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character '\(printable(bytes[pos]))'")
        }
    }

    private func printable(_ b: UInt8) -> String {
        (0x21...0x7e).contains(b) ? String(UnicodeScalar(b)) : "\\x" + Hex.encode([b])
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let start = pos
        for c in word.utf8 {
            guard pos < bytes.count, bytes[pos] == c else { throw fail("invalid literal", at: start) }
            pos += 1
        }
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONNode {
        if depth > JSONNodeParser.maxDepth { throw Failure(kind: .tooDeep, offset: pos) }
        pos += 1
        var members: [JSONNodeMember] = []
        var seen = Set<String>()
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of JSON inside an object") }
            guard bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = pos
            let key = try parseString()
            if !seen.insert(key).inserted { throw Failure(kind: .duplicateKey(key), offset: keyOffset) }
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONNodeMember(key: key, value: value, keyOffset: keyOffset))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of JSON inside an object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONNode {
        if depth > JSONNodeParser.maxDepth { throw Failure(kind: .tooDeep, offset: pos) }
        pos += 1
        var items: [JSONNode] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of JSON inside an array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array")
        }
    }

    private mutating func parseNumber() throws(Failure) -> String {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("invalid number", at: start) }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) { throw fail("number with a leading zero", at: start) }
        } else {
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("invalid number", at: start) }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("invalid number", at: start) }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    /// Parses a string starting at the opening quote. The input must already be valid UTF-8 inside
    /// strings; invalid sequences are rejected here too.
    private mutating func parseString() throws(Failure) -> String {
        pos += 1
        var scalars = String.UnicodeScalarView()
        var runStart = pos
        func flushRun(_ p: Int, into s: inout String.UnicodeScalarView) throws(Failure) {
            guard p > runStart else { return }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[runStart..<p])
            guard let str = String(validating: slice, as: UTF8.self) else {
                throw Failure(kind: .syntax("invalid UTF-8 in a string"), offset: runStart)
            }
            s.append(contentsOf: str.unicodeScalars)
        }
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                try flushRun(pos, into: &scalars)
                pos += 1
                return String(scalars)
            }
            if b < 0x20 { throw fail("control character in a string") }
            if b == UInt8(ascii: "\\") {
                try flushRun(pos, into: &scalars)
                pos += 1
                guard pos < bytes.count else { throw fail("unterminated string") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    let at = pos - 2
                    let hi = try hex4()
                    var value = hi
                    if (0xD800...0xDBFF).contains(hi) {
                        guard pos + 2 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw fail("lone leading surrogate in a \\u escape", at: at)
                        }
                        pos += 2
                        let lo = try hex4()
                        guard (0xDC00...0xDFFF).contains(lo) else { throw fail("invalid surrogate pair", at: at) }
                        value = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(hi) {
                        throw fail("lone trailing surrogate in a \\u escape", at: at)
                    }
                    guard let u = Unicode.Scalar(value) else { throw fail("invalid \\u escape", at: at) }
                    scalars.append(u)
                default:
                    throw fail("invalid escape '\\\(printable(e))'", at: pos - 2)
                }
                runStart = pos
                continue
            }
            pos += 1
        }
    }
}
