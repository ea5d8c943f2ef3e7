import PruneFormats
/// Tensor bytes of a model, handed out one at a time.
///
/// `streamed` reads front to back (the file is never held whole: a mapped file releases pages
/// behind the cursor, a pipe or .zst is decompressed through a fixed buffer); tensors must be asked
/// for in increasing offset order. `random` maps the whole file (a .zst or pipe is spooled to an
/// unlinked temporary file first) and serves any order.
final class DiffTensorSource {
    let path: String
    let header: ModelHeader
    let compressed: Bool
    private let stream: ByteStream?
    private let file: ModelFile?

    init(streaming path: String) throws {
        let s = try ModelInput.open(path, releaseBehind: true)
        self.header = try ModelHeader.parse(s)
        try header.refuseSplit(path: displayName(path))
        self.path = path
        self.compressed = s.isCompressed
        self.stream = s
        self.file = nil
    }

    init(randomAccess path: String) throws {
        let f = try ModelFile(path: path)
        try f.header.refuseSplit(path: displayName(path))
        self.header = f.header
        self.path = path
        self.compressed = f.wasCompressed
        self.stream = nil
        self.file = f
    }

    /// Gives the bytes of `t` to `body`. On a streamed source `t` must not lie before the cursor.
    func withBytes<R>(_ t: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if let file { return try file.withData(for: t.name, body) }
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
