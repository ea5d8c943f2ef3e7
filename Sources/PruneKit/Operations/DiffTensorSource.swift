import PruneFormats
/// Tensor bytes of a model, handed out one at a time.
///
/// `streamed` reads front to back (the file is never held whole: a mapped file releases pages
/// behind the cursor, a pipe or .zst is decompressed through a fixed buffer); tensors must be asked
/// for in increasing offset order. `random` maps the whole file (a .zst or pipe is spooled to an
/// unlinked temporary file first) and serves any order. A sharded checkpoint folder is always
/// random access: its shards are opened through `CheckpointFolder` as apply and revert open them
/// (index checked against the shards, `.zst` shards decompressed), and `header` is the folder seen
/// as one model (`CheckpointTensors.combinedHeader`).
final class DiffTensorSource {
    let path: String
    let header: ModelHeader
    let compressed: Bool
    private let stream: ByteStream?
    private let file: ModelFile?
    /// The shards, when `path` is a checkpoint folder.
    let folder: CheckpointTensors?

    private init(path: String, header: ModelHeader, compressed: Bool, stream: ByteStream?, file: ModelFile?,
                 folder: CheckpointTensors?) {
        self.path = path
        self.header = header
        self.compressed = compressed
        self.stream = stream
        self.file = file
        self.folder = folder
    }

    convenience init(streaming path: String) throws {
        if CheckpointFolder.isFolder(path) {
            try self.init(folder: path)
            return
        }
        let s = try ModelInput.open(path, releaseBehind: true)
        let header = try ModelHeader.parse(s)
        try header.refuseSplit(path: displayName(path))
        self.init(path: path, header: header, compressed: s.isCompressed, stream: s, file: nil, folder: nil)
    }

    convenience init(randomAccess path: String) throws {
        if CheckpointFolder.isFolder(path) {
            try self.init(folder: path)
            return
        }
        let f = try ModelFile(path: path)
        try f.header.refuseSplit(path: displayName(path))
        self.init(path: path, header: f.header, compressed: f.wasCompressed, stream: nil, file: f, folder: nil)
    }

    convenience init(folder path: String) throws {
        let tensors = try CheckpointFolder(path: path).open()
        self.init(path: path, header: tensors.combinedHeader, compressed: tensors.compressedShards > 0, stream: nil, file: nil,
                  folder: tensors)
    }

    var isFolder: Bool { folder != nil }

    /// Gives the bytes of `t` to `body`. On a streamed source `t` must not lie before the cursor.
    func withBytes<R>(_ t: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if let file { return try file.withData(for: t.name, body) }
        if let folder { return try folder.withData(for: t.name, body) }
        guard let stream else { throw DiffError.internalOrder(path: displayName(path), tensor: t.name) }
        let start = header.dataStart + t.offset
        guard start >= stream.position else {
            throw DiffError.internalOrder(path: displayName(path), tensor: t.name)
        }
        let gap = start - stream.position
        if gap > 0 {
            try stream.forEachChunk(gap, what: "the data before tensor '\(t.name)'") { _ in }
        }
        return try stream.withContiguous(t.byteCount, what: "tensor '\(t.name)'", body)
    }
}
