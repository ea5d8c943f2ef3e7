/// A JSON value that keeps object members in document order (JSONSerialization does not, and it
/// silently keeps the last of duplicate keys). Numbers keep their source text so integers of any
/// size round-trip exactly.
public indirect enum JSONNode: Sendable, Equatable {
    case object([JSONNodeMember])
    case array([JSONNode])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// The member named `key` of an object, nil otherwise.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as a non-negative integer that fits an `Int`, nil for anything else
    /// (fractions, exponents, signs, overflow).
    public var nonNegativeInt: Int? {
        guard case .number(let text) = self, !text.isEmpty else { return nil }
        var value = 0
        for b in text.utf8 {
            guard b >= 0x30, b <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - 0x30))
            if o1 || o2 { return nil }
            value = s
        }
        return value
    }

    /// Compact or indented serialization. Member order is kept.
    public func serialized(pretty: Bool = false) -> String {
        var out = ""
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(to out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONNode.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            if pretty, items.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }) {
                // Arrays of scalars (shapes, short lists) stay on one line.
                out += "[" + items.map { $0.serialized() }.joined(separator: ", ") + "]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                JSONNode.writeString(m.key, to: &out)
                out += pretty ? ": " : ":"
                m.value.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    package static func writeString(_ s: String, to out: inout String) {
        out += JSONText.quote(s)
    }

    /// A JSON number for an integer.
    public static func int<I: BinaryInteger>(_ v: I) -> JSONNode { .number(String(v)) }

    /// A JSON number for a double (non-finite values become strings, which JSON cannot hold otherwise).
    public static func double(_ v: Double) -> JSONNode {
        v.isFinite ? .number("\(v)") : .string("\(v)")
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONNodeMember: Sendable, Equatable {
    public var key: String
    public var value: JSONNode
    /// Byte offset of the key's opening quote in the parsed text (0 for values built in code).
    public var keyOffset: Int

    public init(key: String, value: JSONNode, keyOffset: Int = 0) {
        self.key = key
        self.value = value
        self.keyOffset = keyOffset
    }
}
