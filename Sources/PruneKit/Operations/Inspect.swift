import PruneFormats
/// `prune-inspect`: read a model file (path, `-` for stdin, plain or zstd) to its last byte,
/// validating it, and describe it. A sharded checkpoint folder is read shard by shard through the
/// same pass apply and revert use (`CheckpointRewrite`), its index checked against the shards.
public enum Inspect {
    public static func run(path: String) throws -> InspectReport {
        if CheckpointFolder.isFolder(path) { return try folder(path) }
        let summary = try ModelRewriter(input: path, output: .discard, options: .uncompressed).run(select: { header in
            try header.refuseSplit(path: displayName(path))
            return []
        })
        let header = summary.header
        var metadata: [JSONNodeMember] = []
        var alignment: Int? = nil
        switch header {
        case .safetensors(let h):
            metadata = (h.metadata ?? []).map { JSONNodeMember(key: $0.key, value: .string($0.value)) }
        case .gguf(let h):
            metadata = h.keyValues.map { JSONNodeMember(key: $0.key, value: $0.value.json(arrayLimit: InspectReport.arrayLimit)) }
            alignment = h.alignment
        }
        return InspectReport(
            path: path == "-" ? "<stdin>" : path, format: header.format, version: header.version,
            architecture: header.architecture, alignment: alignment, metadata: metadata,
            tensors: header.tensors, dataStart: header.dataStart, fileBytes: summary.inputBytes,
            sha256: summary.inputSHA256, compressed: summary.inputWasCompressed)
    }

    /// A sharded folder: every shard validated to its last byte and hashed; the tensors of all
    /// shards in shard order, each with its shard; the index's metadata; the folder's SHA-256 is
    /// the digest a sidecar records for it (`Sidecar.Checkpoint.digest`).
    static func folder(_ path: String) throws -> InspectReport {
        let run = try CheckpointRewrite(reading: path)
        let results = try run.run(selected: [], options: .uncompressed) { _, _ in nil }
        var shards: [InspectReport.Shard] = []
        var tensorShards: [String] = []
        for ((shard, header), r) in zip(run.headers, results) {
            shards.append(.init(name: shard.name, file: shard.file, bytes: r.summary?.inputBytes ?? 0, sha256: r.inputSHA256,
                                compressed: r.summary?.inputWasCompressed ?? false, tensors: header.tensors.count,
                                dataStart: header.dataStart))
            tensorShards += header.tensors.map { _ in shard.name }
        }
        var metadata: [JSONNodeMember] = []
        if let root = try? JSONNodeParser.parse(run.folder.indexBytes), case .object(let m)? = root["metadata"] { metadata = m }
        var report = InspectReport(
            path: path, format: .safetensors, version: nil, architecture: nil, alignment: nil, metadata: metadata,
            tensors: run.tensors, dataStart: 0, fileBytes: shards.reduce(0) { $0 + $1.bytes },
            sha256: Sidecar.Checkpoint.digest(results.map { ($0.name, $0.inputSHA256) }),
            compressed: shards.contains(where: \.compressed))
        report.index = run.folder.indexName
        report.shards = shards
        report.tensorShards = tensorShards
        report.otherFiles = run.folder.otherFiles
        return report
    }
}
