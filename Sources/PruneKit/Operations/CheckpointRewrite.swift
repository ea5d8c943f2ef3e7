import Foundation
import PruneFormats

/// One pass of apply, replay or revert over a sharded checkpoint folder into a new folder: the
/// shards holding selected tensors go through the model rewriter (zstd-compressed as `name.zst`, or
/// plain), every other shard is hard-linked (else copied), the index is written, the other files are
/// copied. Everything is staged in a hidden folder and appears under the destination name on
/// `commit()`. Without a destination (`reading:`) the same pass reads, validates and hashes every
/// shard and runs `transform`, writing nothing (prune-audit --base on a folder).
struct CheckpointRewrite {
    struct ShardResult {
        var name: String
        var inputSHA256: String
        var outputSHA256: String
        var compressed: Bool
        var summary: RewriteSummary?
    }

    let folder: CheckpointFolder
    let headers: [(shard: CheckpointFolder.Shard, header: ModelHeader)]
    private let destination: FolderStaging?

    /// The staging folder of the destination (not for a run made with `reading:`).
    var staging: FolderStaging {
        guard let destination else { preconditionFailure("CheckpointRewrite(reading:) has no destination") }
        return destination
    }

    init(input: String, output: OutputTarget) throws {
        folder = try CheckpointFolder(path: input)
        headers = try folder.headers()
        guard case .file(let out) = output else { throw CheckpointError.needsOutputFolder(path: input) }
        if out == input || FileIdentity.same(out, input) { throw ApplyError.outputIsInput(path: out, option: "-o", input: input, what: "the model folder") }
        destination = try FolderStaging(destination: out)
    }

    /// A pass that writes nothing: `run` validates and hashes every shard (to its last byte) and
    /// hands the selected tensors to `transform`, whose output is hashed and dropped.
    init(reading input: String) throws {
        folder = try CheckpointFolder(path: input)
        headers = try folder.headers()
        destination = nil
    }

    /// Every tensor of the folder, shard by shard.
    var tensors: [TensorInfo] { headers.flatMap { $0.header.tensors } }

    var description: ModelDescription {
        ModelDescription.safetensors(tensors: tensors, modelPath: CheckpointFolder.join(folder.path, folder.isIndexed ? folder.indexName : CheckpointFolder.singleFile))
    }

    /// Rewrites the shards: `selected` tensors go to `transform` (nil keeps them).
    func run(selected: Set<String>, options: OutputOptions,
             transform: (TensorInfo, UnsafeRawBufferPointer) throws -> [UInt8]?) throws -> [ShardResult] {
        var out: [ShardResult] = []
        for (shard, header) in headers {
            let names = Set(header.tensors.map(\.name)).intersection(selected)
            let input = folder.path(of: shard)
            guard let destination else {
                let summary = try ModelRewriter(input: input, output: .discard, options: .uncompressed)
                    .run(select: { _ in names }, transform: transform)
                out.append(ShardResult(name: shard.name, inputSHA256: summary.inputSHA256, outputSHA256: summary.outputSHA256,
                                       compressed: shard.file != shard.name, summary: summary))
                continue
            }
            if names.isEmpty {
                try destination.linkOrCopy(input, as: shard.file)
                let sha = try ModelInput.sha256(input)
                out.append(ShardResult(name: shard.name, inputSHA256: sha, outputSHA256: sha, compressed: shard.file != shard.name,
                                       summary: nil))
                continue
            }
            let file = shard.name + (options.compress ? ".zst" : "")
            let summary = try ModelRewriter(input: input, output: .file(try destination.file(file)), options: options)
                .run(select: { _ in names }, transform: transform)
            out.append(ShardResult(name: shard.name, inputSHA256: summary.inputSHA256, outputSHA256: summary.outputSHA256,
                                   compressed: options.compress, summary: summary))
        }
        return out
    }

    /// Writes the index: `base` verbatim when no shard is compressed, else `base` with
    /// `metadata.prune_zstd_shards` naming the compressed ones. Returns its SHA-256.
    func writeIndex(base: [UInt8], shards: [ShardResult]) throws -> String {
        // A folder of one model.safetensors has no index: its compressed file says so by its name.
        guard folder.isIndexed else { return SHA256Hasher.hex(base) }
        let bytes = try Self.index(base: base, compressed: shards.filter(\.compressed).map(\.name), path: folder.indexName)
        try staging.write(bytes, as: folder.indexName)
        return SHA256Hasher.hex(bytes)
    }

    /// Copies the other files of the folder and returns their records.
    func copyOtherFiles() throws -> [Sidecar.Checkpoint.File] {
        var files: [Sidecar.Checkpoint.File] = []
        for name in folder.otherFiles {
            let source = CheckpointFolder.join(folder.path, name)
            try staging.copy(source, as: name)
            let data = FileManager.default.contents(atPath: source).map { [UInt8]($0) } ?? []
            files.append(.init(name: name, sha256: SHA256Hasher.hex(data), bytes: data.count))
        }
        return files
    }

    /// The index a loader needs: `base` (any JSON object with `weight_map`) with its
    /// `metadata.prune_zstd_shards` set to `{shard: shard.zst}` for the compressed shards (removed
    /// when there are none; `base` is returned verbatim when it had none either).
    static func index(base: [UInt8], compressed: [String], path: String) throws -> [UInt8] {
        let root: JSONNode
        do { root = try JSONNodeParser.parse(base) } catch {
            throw CheckpointFolderError.badIndex(path: path, reason: "\(error.message) at byte \(error.offset)")
        }
        guard case .object(var members) = root else { throw CheckpointFolderError.badIndex(path: path, reason: "not a JSON object") }
        let key = CheckpointFolder.compressedShardsKey
        let had = root["metadata"]?[key] != nil
        if compressed.isEmpty && !had { return base }
        var meta: [JSONNodeMember] = []
        if let i = members.firstIndex(where: { $0.key == "metadata" }) {
            guard case .object(let m) = members[i].value else {
                throw CheckpointFolderError.badIndex(path: path, reason: "metadata is not an object")
            }
            meta = m.filter { $0.key != key }
            members.remove(at: i)
        }
        if !compressed.isEmpty {
            meta.append(JSONNodeMember(key: key, value: .object(compressed.sorted().map {
                JSONNodeMember(key: $0, value: .string($0 + ".zst"))
            })))
        }
        members.insert(JSONNodeMember(key: "metadata", value: .object(meta)), at: 0)
        return Array((JSONNode.object(members).serialized(pretty: true) + "\n").utf8)
    }
}
