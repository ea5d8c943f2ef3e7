import Foundation

/// A Hugging Face sharded safetensors checkpoint: a folder holding `<prefix>.safetensors.index.json`
/// (`{"metadata": {...}, "weight_map": {tensor: shard file}}`, as transformers' `save_pretrained`
/// writes it), the shard files it names (`model-00001-of-0000N.safetensors`), and other files
/// (config, tokenizer) that are not part of the weights.
///
/// A shard prune wrote zstd-compressed is stored as `<shard>.zst`; the index then says so in
/// `metadata.prune_zstd_shards` (`{shard: file}`), and the index's `weight_map` keeps the shard's
/// own name (decompressing `<shard>.zst` to `<shard>` gives a folder any loader reads).
///
/// Files are followed through symbolic links (the Hugging Face cache stores snapshots as links).
package struct CheckpointFolder: Sendable {
    /// The metadata key naming the shards stored zstd-compressed.
    package static let compressedShardsKey = "prune_zstd_shards"

    package struct Shard: Sendable, Equatable {
        /// The name the index gives it (a plain file name).
        package var name: String
        /// The file holding it in the folder: `name`, or `name + ".zst"` when compressed.
        package var file: String
        /// The tensors the index assigns to it, in index order.
        package var tensors: [String]
    }

    /// The folder.
    package let path: String
    /// The name of the one model file of a folder without an index.
    package static let singleFile = "model.safetensors"

    /// The index file's name, e.g. `model.safetensors.index.json`; empty for a folder that holds one
    /// `model.safetensors` (or `model.safetensors.zst`) and no index.
    package let indexName: String
    /// Whether the folder has an index (else it holds one model file, `singleFile`).
    package var isIndexed: Bool { !indexName.isEmpty }
    /// The index, byte for byte.
    package let indexBytes: [UInt8]
    /// The shards, sorted by name (the `-0000k-of-` order).
    package let shards: [Shard]
    /// Tensor → shard name, from `weight_map`.
    package let weightMap: [String: String]
    /// Every other regular file of the folder (recursively; relative paths, sorted).
    package let otherFiles: [String]

    /// Whether `path` is a folder (following links).
    package static func isFolder(_ path: String) -> Bool {
        guard path != "-" else { return false }
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Reads and checks the index of the folder at `path`: one `*.safetensors.index.json`, a
    /// `weight_map` of plain `.safetensors` file names that exist as regular files; or, without an
    /// index, one `model.safetensors` (or `model.safetensors.zst`).
    package init(path: String) throws {
        guard Self.isFolder(path) else { throw CheckpointFolderError.notAFolder(path: path) }
        self.path = path
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
            throw CheckpointFolderError.unreadable(path: path, reason: "cannot list the folder")
        }
        let indexes = entries.filter { $0.hasSuffix(".safetensors.index.json") && !$0.hasPrefix(".") }
        guard let indexName = indexes.first else {
            // The most common layout of small models: one model.safetensors (prune writes it as
            // model.safetensors.zst when compressing), no index.
            let singles = [Self.singleFile, Self.singleFile + ".zst"].filter { entries.contains($0) }
            guard singles.count == 1 else {
                throw singles.isEmpty ? CheckpointFolderError.noIndex(path: path)
                    : CheckpointFolderError.unreadable(path: path, reason: "both \(Self.singleFile) and \(Self.singleFile).zst are here; keep one")
            }
            let p = Self.join(path, singles[0])
            guard Self.isRegularFile(p) else { throw CheckpointFolderError.notRegularFile(path: p) }
            self.indexName = ""
            indexBytes = []
            shards = [Shard(name: Self.singleFile, file: singles[0], tensors: [])]
            weightMap = [:]
            otherFiles = Self.regularFiles(under: path).filter { $0 != singles[0] }
            return
        }
        guard indexes.count == 1 else { throw CheckpointFolderError.severalIndexes(path: path, names: indexes) }
        self.indexName = indexName
        let indexPath = Self.join(path, indexName)
        guard Self.isRegularFile(indexPath) else { throw CheckpointFolderError.notRegularFile(path: indexPath) }
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw CheckpointFolderError.unreadable(path: indexPath, reason: "cannot read the index")
        }
        indexBytes = [UInt8](data)
        let root: JSONNode
        do { root = try JSONNodeParser.parse(indexBytes) } catch {
            throw CheckpointFolderError.badIndex(path: indexPath, reason: "\(error.message) at byte \(error.offset)")
        }
        guard case .object = root else { throw CheckpointFolderError.badIndex(path: indexPath, reason: "not a JSON object") }
        guard case .object(let map)? = root["weight_map"] else {
            throw CheckpointFolderError.badIndex(path: indexPath, reason: "no weight_map object")
        }
        var compressed: [String: String] = [:]
        if case .object(let members)? = root["metadata"]?[Self.compressedShardsKey] {
            for m in members {
                guard let file = m.value.stringValue, file == m.key + ".zst" else {
                    throw CheckpointFolderError.badIndex(path: indexPath, reason: "metadata.\(Self.compressedShardsKey).\(m.key) is not \"\(m.key).zst\"")
                }
                compressed[m.key] = file
            }
        }
        var weightMap: [String: String] = [:]
        var byShard: [String: [String]] = [:]
        for m in map {
            guard let shard = m.value.stringValue else {
                throw CheckpointFolderError.badIndex(path: indexPath, reason: "weight_map.\(m.key) is not a string")
            }
            guard Self.isPlainName(shard), shard.hasSuffix(".safetensors") else {
                throw CheckpointFolderError.badShardName(path: indexPath, shard: shard)
            }
            weightMap[m.key] = shard
            byShard[shard, default: []].append(m.key)
        }
        guard !byShard.isEmpty else { throw CheckpointFolderError.badIndex(path: indexPath, reason: "weight_map is empty") }
        if let stray = compressed.keys.sorted().first(where: { byShard[$0] == nil }) {
            throw CheckpointFolderError.badIndex(path: indexPath, reason: "metadata.\(Self.compressedShardsKey) names '\(stray)', which holds no tensor")
        }
        var shards: [Shard] = []
        for name in byShard.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let file = compressed[name] ?? name
            let p = Self.join(path, file)
            var st = stat()
            guard stat(p, &st) == 0 else { throw CheckpointFolderError.missingShard(path: indexPath, shard: file) }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw CheckpointFolderError.notRegularFile(path: p) }
            shards.append(Shard(name: name, file: file, tensors: byShard[name] ?? []))
        }
        self.shards = shards
        self.weightMap = weightMap
        let model = Set(shards.map(\.file) + [indexName])
        otherFiles = Self.regularFiles(under: path).filter { !model.contains($0) }
    }

    package func path(of shard: Shard) -> String { Self.join(path, shard.file) }

    /// The parsed header of every shard, in shard order, checked against the index: every tensor of
    /// a shard is listed for that shard, and every listed tensor is there.
    package func headers() throws -> [(shard: Shard, header: ModelHeader)] {
        var out: [(Shard, ModelHeader)] = []
        var seen: [String: String] = [:]
        for s in shards {
            let p = path(of: s)
            let stream = try ModelInput.open(p)
            let header = try ModelHeader.parse(stream)
            guard header.format == .safetensors else { throw CheckpointFolderError.notSafetensors(path: p) }
            guard isIndexed else {
                out.append((s, header))
                continue
            }
            let names = Set(header.tensors.map(\.name))
            for t in header.tensors {
                if let other = seen[t.name] {
                    throw CheckpointFolderError.duplicateTensor(path: path, tensor: t.name, shards: [other, s.name])
                }
                seen[t.name] = s.name
                guard weightMap[t.name] != nil else { throw CheckpointFolderError.tensorNotInIndex(path: p, tensor: t.name) }
                guard weightMap[t.name] == s.name else {
                    throw CheckpointFolderError.tensorNotInShard(path: Self.join(path, indexName), tensor: t.name,
                                                                 shard: weightMap[t.name] ?? "")
                }
            }
            for t in s.tensors where !names.contains(t) {
                throw CheckpointFolderError.tensorNotInShard(path: Self.join(path, indexName), tensor: t, shard: s.name)
            }
            out.append((s, header))
        }
        return out
    }

    /// Random access to every tensor of the folder by name (each shard mapped on first use).
    package func open() throws -> CheckpointTensors { try CheckpointTensors(folder: self, headers: headers()) }

    // MARK: - file helpers

    package static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// A file name with no folder part that is not `.` or `..`.
    package static func isPlainName(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.contains("/") && !s.contains("\0")
    }

    package static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Regular files under `folder` (following links), as relative paths sorted by bytes; hidden
    /// staging files of prune are left out.
    package static func regularFiles(under folder: String) -> [String] {
        var out: [String] = []
        func walk(_ rel: String) {
            let dir = rel.isEmpty ? folder : join(folder, rel)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            for n in names where !(n.hasPrefix(".") && n.contains(".prune-")) {
                let r = rel.isEmpty ? n : rel + "/" + n
                var st = stat()
                guard stat(join(folder, r), &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFREG: out.append(r)
                case S_IFDIR: walk(r)
                default: continue
                }
            }
        }
        walk("")
        return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}

/// The tensors of a checkpoint folder by name; each shard is opened (mapped, or a `.zst` shard
/// decompressed to a temporary file) the first time one of its tensors is asked for.
package final class CheckpointTensors: @unchecked Sendable {
    package let folder: CheckpointFolder
    /// Shards in order with their headers.
    package let headers: [(shard: CheckpointFolder.Shard, header: ModelHeader)]
    private var files: [String: ModelFile] = [:]
    private let lock = NSLock()
    private var where_: [String: (shard: Int, info: TensorInfo)] = [:]

    init(folder: CheckpointFolder, headers: [(shard: CheckpointFolder.Shard, header: ModelHeader)]) {
        self.folder = folder
        self.headers = headers
        for (i, h) in headers.enumerated() {
            for t in h.header.tensors { where_[t.name] = (i, t) }
        }
    }

    /// Every tensor, shard by shard, each shard's in data order.
    package var tensors: [TensorInfo] { headers.flatMap { $0.header.tensors } }

    /// How many shards are stored zstd-compressed (`name.zst`).
    package var compressedShards: Int { headers.filter { $0.shard.file != $0.shard.name }.count }

    /// The folder seen as one safetensors model, for comparing it with another model: the tensors
    /// of every shard in shard order, offsets made folder-wide (each shard's data placed after the
    /// previous shard's), and the shards' `__metadata__` merged in shard order (a key whose value
    /// differs between shards is kept once per value, prefixed with the shard's name). Its bytes
    /// are reached with `withData(for:)`, never through the offsets.
    package var combinedHeader: ModelHeader {
        var tensors: [TensorInfo] = []
        var metadata: [MetadataEntry] = []
        var seen: [String: String] = [:]
        var base = 0
        var hasMetadata = false
        for (shard, header) in headers {
            guard case .safetensors(let h) = header else { continue }
            for t in h.tensors {
                var c = t
                c.offset = base &+ t.offset
                tensors.append(c)
            }
            base = base &+ h.dataLength
            if let m = h.metadata { hasMetadata = true
                for e in m {
                    if let v = seen[e.key] {
                        if v != e.value { metadata.append(MetadataEntry(key: shard.name + ": " + e.key, value: e.value)) }
                    } else {
                        seen[e.key] = e.value
                        metadata.append(e)
                    }
                }
            }
        }
        return .safetensors(SafetensorsHeader(headerLength: 0, metadata: hasMetadata ? metadata : nil, tensors: tensors,
                                              headerOrder: tensors.map(\.name)))
    }

    package func info(named name: String) -> TensorInfo? { where_[name]?.info }

    /// The shard holding a tensor.
    package func shard(of name: String) -> CheckpointFolder.Shard? { where_[name].map { headers[$0.shard].shard } }

    /// Zero-copy access to a tensor's bytes; valid only inside `body`.
    package func withData<R>(for name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let w = where_[name] else { throw ContainerError.tensorNotFound(path: folder.path, name: name) }
        let shard = headers[w.shard].shard
        lock.lock()
        let file: ModelFile
        if let f = files[shard.name] {
            file = f
        } else {
            do { file = try ModelFile(path: folder.path(of: shard)) } catch { lock.unlock(); throw error }
            files[shard.name] = file
        }
        lock.unlock()
        return try file.withData(for: name, body)
    }
}
