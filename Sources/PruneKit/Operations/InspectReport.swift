import PruneFormats
/// What `prune-inspect` reports about a model file.
public struct InspectReport: Sendable {
    public var path: String
    public var format: ModelFormat
    /// GGUF version; nil for safetensors.
    public var version: Int?
    public var architecture: String?
    /// GGUF alignment; nil for safetensors.
    public var alignment: Int?
    /// Metadata (`__metadata__` or GGUF KV) in file order as JSON, arrays longer than
    /// `arrayLimit` abbreviated to `{"type":"array","element_type","count","head"}`.
    public var metadata: [JSONNodeMember]
    /// Tensors in data order.
    public var tensors: [TensorInfo]
    /// Offset of the data section.
    public var dataStart: Int
    /// Decompressed size and its SHA-256.
    public var fileBytes: Int
    public var sha256: String
    public var compressed: Bool

    public static let arrayLimit = 8

    /// The machine-readable form: `{"format","version","metadata","tensors":[{"name","dtype","shape",
    /// "bytes","offset"}], …}` with shapes as stored (GGUF: ne0 first) and offsets relative to the
    /// data section.
    public var json: JSONNode {
        let tensorList: [JSONNode] = tensors.map { t in
            .object([
                JSONNodeMember(key: "name", value: .string(t.name)),
                JSONNodeMember(key: "dtype", value: .string(t.type.description)),
                JSONNodeMember(key: "shape", value: .array(t.shape.map { .int($0) })),
                JSONNodeMember(key: "bytes", value: .int(t.byteCount)),
                JSONNodeMember(key: "offset", value: .int(t.offset)),
            ])
        }
        var members: [JSONNodeMember] = [
            JSONNodeMember(key: "file", value: .string(path)),
            JSONNodeMember(key: "format", value: .string(format.rawValue)),
            JSONNodeMember(key: "version", value: version.map { .int($0) } ?? .null),
        ]
        if let architecture { members.append(JSONNodeMember(key: "architecture", value: .string(architecture))) }
        if let alignment { members.append(JSONNodeMember(key: "alignment", value: .int(alignment))) }
        members += [
            JSONNodeMember(key: "compressed", value: .bool(compressed)),
            JSONNodeMember(key: "file_bytes", value: .int(fileBytes)),
            JSONNodeMember(key: "sha256", value: .string(sha256)),
            JSONNodeMember(key: "data_offset", value: .int(dataStart)),
            JSONNodeMember(key: "metadata", value: .object(metadata)),
            JSONNodeMember(key: "tensors", value: .array(tensorList)),
        ]
        return .object(members)
    }

    /// The human-readable form: a summary, the metadata one key a line, and the tensor table.
    public var text: String {
        var lines: [String] = []
        var kind = format == .gguf ? "GGUF v\(version ?? 0)" : "safetensors"
        if compressed { kind += " (zstd-compressed)" }
        lines.append("\(path): \(kind), \(fileBytes) bytes, \(tensors.count) tensors, data at byte \(dataStart)")
        var facts: [String] = []
        if let architecture { facts.append("architecture \(architecture)") }
        if let alignment { facts.append("alignment \(alignment)") }
        facts.append("sha256 \(sha256)")
        lines.append("  " + facts.joined(separator: ", "))
        lines.append(metadata.isEmpty ? "metadata: none" : "metadata (\(metadata.count) keys):")
        for m in metadata {
            lines.append("  \(m.key) = \(Self.short(m.value))")
        }
        lines.append("tensors:")
        let header = ["name", "dtype", "shape", "bytes", "offset"]
        let rows = tensors.map { t in
            [t.name, t.type.description, "[" + t.shape.map(String.init).joined(separator: ", ") + "]", String(t.byteCount), String(t.offset)]
        }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func fmt(_ r: [String]) -> String {
            var s = "  "
            for (i, c) in r.enumerated() {
                let padCount = widths[i] - c.count
                if i >= 3 { s += String(repeating: " ", count: padCount) + c } else { s += c + String(repeating: " ", count: padCount) }
                if i < r.count - 1 { s += "  " }
            }
            return s
        }
        lines.append(fmt(header))
        for r in rows { lines.append(fmt(r)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A one-line rendering of a metadata value, long strings cut.
    static func short(_ v: JSONNode) -> String {
        if case .object(let m) = v, m.first?.key == "type", case .string("array")? = v["type"] {
            let head = v["head"].map { short($0) } ?? "[]"
            let et = v["element_type"]?.stringValue ?? "?"
            let count = v["count"].map { $0.serialized() } ?? "?"
            return "[\(et) × \(count)] " + String(head.dropLast()) + ", …]"
        }
        let s = v.serialized()
        return s.count > 120 ? String(s.prefix(117)) + "…" : s
    }
}
