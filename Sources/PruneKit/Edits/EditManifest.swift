import Foundation
import PruneFormats

/// A JSONL edit manifest: one edit per line, applied in order (see prune-manifest(5)).
///
/// `load` reads and checks everything that does not depend on the model — JSON syntax, kinds,
/// fields, numbers, matrix values, value files and adapters — and `resolve` places the edits on a
/// model. Either returns a complete result or throws the first error; nothing is half-done.
public struct EditManifest: Sendable {
    /// The manifest path as given (used in messages).
    public let path: String
    /// The manifest bytes, verbatim (the sidecar stores them).
    public let bytes: [UInt8]
    /// The edits in manifest order.
    public let edits: [ManifestEdit]
    /// Every file the manifest refers to (value files, adapter files), resolved: inputs of the run.
    public var referencedFiles: [ReferencedFile] = []

    /// The kinds whose deltas the manifest gives, with their fields.
    static let fields: [(kind: String, required: [String], optional: [String])] = [
        ("lowrank", ["tensor", "u", "v"], ["scale"]),
        ("dense", ["tensor", "delta"], ["scale"]),
        ("lora", ["adapter"], ["scale"]),
    ]

    /// Every kind a manifest line may have, in the order messages list them.
    public static let kinds: [String] = fields.map(\.kind) + ManifestEdit.factKindNames

    /// Reads a manifest file (a regular file or a pipe). Relative paths inside it are resolved
    /// against its folder (the folder of the path as given, also when it is a symbolic link).
    public static func load(path: String, options: ManifestOptions = ManifestOptions()) throws -> EditManifest {
        let url = URL(fileURLWithPath: path)
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            throw EditError.unreadableManifest(manifest: path, reason: e == ENOENT ? "no such file" : String(cString: strerror(e)))
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFIFO else {
            throw EditError.unreadableManifest(manifest: path, reason: "it is \(ManifestPaths.kind(st.st_mode)), not a JSONL manifest file")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EditError.unreadableManifest(manifest: path, reason: (error as NSError).localizedFailureReason ?? "unreadable")
        }
        var link: String?
        var lst = stat()
        if lstat(path, &lst) == 0, lst.st_mode & S_IFMT == S_IFLNK { link = ManifestPaths.realPath(path) }
        return try parse(bytes: [UInt8](data), path: path, folder: url.deletingLastPathComponent(), options: options,
                         manifestLink: link)
    }

    /// Parses manifest bytes; `path` names it in messages, `folder` anchors relative paths
    /// (default: the current directory).
    public static func parse(bytes: [UInt8], path: String, folder: URL? = nil,
                             options: ManifestOptions = ManifestOptions()) throws -> EditManifest {
        try parse(bytes: bytes, path: path, folder: folder, options: options, manifestLink: nil)
    }

    static func parse(bytes: [UInt8], path: String, folder: URL?, options: ManifestOptions,
                      manifestLink: String?) throws -> EditManifest {
        let base = folder ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let paths = ManifestPaths(folder: base, options: options, manifestLink: manifestLink)
        let files = ValueFileCache()
        var edits: [ManifestEdit] = []
        var firstLineOfID: [String: Int] = [:]
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var lineBytes = Array(bytes[start..<end])
            start = end + 1
            if lineBytes.last == 0x0D { lineBytes.removeLast() }
            if lineNumber == 1, lineBytes.starts(with: [0xEF, 0xBB, 0xBF]) { lineBytes.removeFirst(3) }
            guard lineBytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            let edit = try parseLine(lineBytes, line: lineNumber, manifest: path, paths: paths, files: files)
            if let first = firstLineOfID[edit.id] {
                throw EditError.duplicateID(manifest: path, line: lineNumber, id: edit.id, firstLine: first)
            }
            firstLineOfID[edit.id] = lineNumber
            edits.append(edit)
        }
        var manifest = EditManifest(path: path, bytes: bytes, edits: edits)
        manifest.referencedFiles = paths.referenced
        return manifest
    }

    /// The line's `"id"`, or its line number.
    private static func editID(_ json: JSONNode, line: Int, manifest: String) throws -> String {
        switch json["id"] {
        case nil: return String(line)
        case .string(let s)? where !s.isEmpty: return s
        case let v? where v.doubleValue.map({ $0.isFinite && $0.rounded() == $0 && abs($0) < 1e15 }) == true:
            return String(Int(v.doubleValue ?? 0))
        default: throw EditError.wrongType(manifest: manifest, line: line, field: "id", expected: "a non-empty string or an integer")
        }
    }

    /// Whether any line is a fact line (its deltas come from the model).
    public var hasFactEdits: Bool {
        edits.contains { if case .fact = $0.kind { return true }; return false }
    }

    private static func parseLine(_ bytes: [UInt8], line: Int, manifest: String, paths: ManifestPaths, files: ValueFileCache) throws -> ManifestEdit {
        let json: JSONNode
        do { json = try JSONNodeParser.parse(bytes, options: .lenientNumbers) } catch {
            throw EditError.invalidJSON(manifest: manifest, line: line, column: error.column, reason: error.message)
        }
        guard case .object(let members) = json else { throw EditError.notAnObject(manifest: manifest, line: line) }
        let kindText: String? = { if case .string(let k)? = json["kind"] { return k }; return nil }()
        if ManifestEdit.factKinds.contains(kindText ?? "") || (json["kind"] == nil && json["requested_rewrite"] != nil) {
            // A fact line: kept as JSON for the fact engine, which checks it (errors name this line).
            return ManifestEdit(id: try editID(json, line: line, manifest: manifest), line: line,
                                kind: .fact(method: kindText ?? "rome", json: json))
        }
        guard let kindValue = json["kind"] else { throw EditError.missingField(manifest: manifest, line: line, field: "kind", kind: "any") }
        guard case .string(let kind) = kindValue else { throw EditError.wrongType(manifest: manifest, line: line, field: "kind", expected: "a string") }
        guard let spec = fields.first(where: { $0.kind == kind }) else { throw EditError.unknownKind(manifest: manifest, line: line, kind: kind) }
        let allowed = Set(spec.required + spec.optional + ["kind", "id"])
        for m in members where !allowed.contains(m.key) {
            throw EditError.unknownField(manifest: manifest, line: line, field: m.key, kind: kind)
        }
        for f in spec.required where json[f] == nil {
            throw EditError.missingField(manifest: manifest, line: line, field: f, kind: kind)
        }

        let id = try editID(json, line: line, manifest: manifest)

        let reader = MatrixValueReader(manifest: manifest, line: line, paths: paths, files: files)
        let scale = try json["scale"].map { try reader.scalar($0, field: "scale") } ?? 1
        func tensorName() throws -> String {
            guard case .string(let t)? = json["tensor"], !t.isEmpty else {
                throw EditError.wrongType(manifest: manifest, line: line, field: "tensor", expected: "a non-empty string")
            }
            return t
        }
        switch kind {
        case "lowrank":
            let tensor = try tensorName()
            let u = try reader.matrix(json["u"]!, field: "u")
            let v = try reader.matrix(json["v"]!, field: "v")
            guard u.columnCount == v.columnCount else {
                throw EditError.wrongShape(manifest: manifest, line: line, field: "v",
                                           reason: "u is \(u.shapeText) and v is \(v.shapeText): they need the same number of columns (the rank)")
            }
            return ManifestEdit(id: id, line: line, kind: .lowRank(tensor: tensor, u: u, v: v, scale: scale))
        case "dense":
            let tensor = try tensorName()
            let delta = try reader.matrix(json["delta"]!, field: "delta")
            return ManifestEdit(id: id, line: line, kind: .dense(tensor: tensor, delta: delta, scale: scale))
        default:
            guard case .string(let adapter)? = json["adapter"], !adapter.isEmpty else {
                throw EditError.wrongType(manifest: manifest, line: line, field: "adapter", expected: "a non-empty string (a folder)")
            }
            let loaded = try LoRAAdapter.load(path: adapter, paths: paths, manifest: manifest, line: line, files: files)
            return ManifestEdit(id: id, line: line, kind: .lora(adapter: loaded, scale: scale))
        }
    }
}
