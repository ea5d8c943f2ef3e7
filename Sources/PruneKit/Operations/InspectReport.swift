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

    /// One shard of a sharded checkpoint folder.
    public struct Shard: Sendable {
        /// Its name in the index, and the file holding it (`name.zst` when compressed).
        public var name: String
        public var file: String
        /// Decompressed size and its SHA-256.
        public var bytes: Int
        public var sha256: String
        public var compressed: Bool
        public var tensors: Int
        public var dataStart: Int
    }

    /// For a sharded checkpoint folder: the index file's name, the shards in name order, the shard
    /// of each tensor (parallel to `tensors`, whose offsets are then within their shard), and the
    /// folder's other files. `metadata` is then the index's, `fileBytes` the shards' total and
    /// `sha256` the folder digest (`Sidecar.Checkpoint.digest`). nil for a single file.
    public var index: String?
    public var shards: [Shard]?
    public var tensorShards: [String]?
    public var otherFiles: [String]?

    public static let arrayLimit = 8

    /// The machine-readable form: `{"format","version","metadata","tensors":[{"name","dtype","shape",
    /// "bytes","offset"}], …}` with shapes as stored (GGUF: ne0 first) and offsets relative to the
    /// data section.
    public var json: JSONNode {
        let tensorList: [JSONNode] = tensors.enumerated().map { i, t in
            var m = [
                JSONNodeMember(key: "name", value: .string(t.name)),
                JSONNodeMember(key: "dtype", value: .string(t.type.description)),
                JSONNodeMember(key: "shape", value: .array(t.shape.map { .int($0) })),
                JSONNodeMember(key: "bytes", value: .int(t.byteCount)),
                JSONNodeMember(key: "offset", value: .int(t.offset)),
            ]
            if let tensorShards, i < tensorShards.count { m.append(JSONNodeMember(key: "shard", value: .string(tensorShards[i]))) }
            return .object(m)
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
        ]
        if let shards {
            members.append(JSONNodeMember(key: "index", value: .string(index ?? "")))
            members.append(JSONNodeMember(key: "shards", value: .array(shards.map { sh in
                .object([
                    JSONNodeMember(key: "name", value: .string(sh.name)),
                    JSONNodeMember(key: "file", value: .string(sh.file)),
                    JSONNodeMember(key: "compressed", value: .bool(sh.compressed)),
                    JSONNodeMember(key: "file_bytes", value: .int(sh.bytes)),
                    JSONNodeMember(key: "sha256", value: .string(sh.sha256)),
                    JSONNodeMember(key: "data_offset", value: .int(sh.dataStart)),
                    JSONNodeMember(key: "tensors", value: .int(sh.tensors)),
                ])
            })))
            members.append(JSONNodeMember(key: "other_files", value: .array((otherFiles ?? []).map { .string($0) })))
        }
        members.append(JSONNodeMember(key: "tensors", value: .array(tensorList)))
        return .object(members)
    }

    /// The human-readable form: a summary, the metadata one key a line, and the tensor table.
    public var text: String {
        var lines: [String] = []
        if let shards {
            let packed = shards.filter(\.compressed).count
            lines.append("\(path): sharded safetensors checkpoint, \(shards.count) shards (index \(index ?? "")), "
                         + "\(fileBytes) bytes, \(tensors.count) tensors"
                         + (packed > 0 ? ", \(packed) shard\(packed == 1 ? "" : "s") zstd-compressed" : ""))
            lines.append("  sha256 \(sha256) (of the shards' SHA-256 lines)")
            lines.append("shards:")
            let rows = shards.map { [$0.file, String($0.tensors), String($0.bytes), $0.sha256] }
            lines += Self.table(["file", "tensors", "bytes", "sha256"], rows, rightFrom: 1, rightTo: 2)
            if let otherFiles, !otherFiles.isEmpty { lines.append("other files: " + otherFiles.joined(separator: ", ")) }
        } else {
            var kind = format == .gguf ? "GGUF v\(version ?? 0)" : "safetensors"
            if compressed { kind += " (zstd-compressed)" }
            lines.append("\(path): \(kind), \(fileBytes) bytes, \(tensors.count) tensors, data at byte \(dataStart)")
        }
        var facts: [String] = []
        if let architecture { facts.append("architecture \(architecture)") }
        if let alignment { facts.append("alignment \(alignment)") }
        if shards == nil {
            facts.append("sha256 \(sha256)")
            lines.append("  " + facts.joined(separator: ", "))
        }
        lines.append(metadata.isEmpty ? "metadata: none" : "metadata (\(metadata.count) keys):")
        for m in metadata {
            lines.append("  \(m.key) = \(Self.short(m.value))")
        }
        lines.append("tensors:")
        var header = ["name", "dtype", "shape", "bytes", "offset"]
        var rows = tensors.map { t in
            [t.name, t.type.description, "[" + t.shape.map(String.init).joined(separator: ", ") + "]", String(t.byteCount), String(t.offset)]
        }
        if let tensorShards, tensorShards.count == rows.count {
            header.append("shard")
            for i in rows.indices { rows[i].append(tensorShards[i]) }
        }
        lines += Self.table(header, rows, rightFrom: 3, rightTo: 4)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Rows of columns padded to a common width (columns rightFrom...rightTo right-aligned), indented by two.
    static func table(_ header: [String], _ rows: [[String]], rightFrom: Int, rightTo: Int) -> [String] {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func fmt(_ r: [String]) -> String {
            var s = "  "
            for (i, c) in r.enumerated() {
                let padCount = widths[i] - c.count
                if i >= rightFrom && i <= rightTo { s += String(repeating: " ", count: padCount) + c }
                else if i < r.count - 1 { s += c + String(repeating: " ", count: padCount) } else { s += c }
                if i < r.count - 1 { s += "  " }
            }
            return s
        }
        return [fmt(header)] + rows.map(fmt)
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
