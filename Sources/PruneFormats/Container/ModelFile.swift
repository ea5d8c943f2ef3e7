/// Random access to a model file of either format: the validated header and tensor bytes by name.
///
/// A regular uncompressed file is memory-mapped (zero-copy); `-`, pipes and `.zst` input are
/// decompressed once into an unlinked temporary file which is then mapped.
public final class ModelFile: @unchecked Sendable {
    public let path: String
    public let header: ModelHeader
    public let wasCompressed: Bool
    private let storage: MappedFile
    private let index: [String: Int]

    public convenience init(path: String) throws {
        let (mapped, compressed) = try ModelInput.mapWhole(path)
        self.init(path: path, header: try ModelHeader.parse(ByteStream(path: path, mapped: mapped)), mapped: mapped,
                  compressed: compressed)
    }

    /// A file already mapped and parsed (`SafetensorsFile` goes through here).
    init(path: String, header: ModelHeader, mapped: MappedFile, compressed: Bool) {
        self.header = header
        self.path = path
        self.wasCompressed = compressed
        self.storage = mapped
        var index: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    public var format: ModelFormat { header.format }
    /// Tensors in data order.
    public var tensors: [TensorInfo] { header.tensors }

    public func info(named name: String) -> TensorInfo? {
        index[name].map { header.tensors[$0] }
    }

    /// Zero-copy access to a tensor's bytes; the buffer is valid only inside `body`.
    public func withData<R>(for name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let i = index[name] else {
            throw ContainerError.tensorNotFound(path: displayName(path), name: name)
        }
        let t = header.tensors[i]
        let start = header.dataStart + t.offset
        return try body(UnsafeRawBufferPointer(rebasing: storage.bytes[start..<(start + t.byteCount)]))
    }

    /// A tensor's bytes in pieces of at most `piece` bytes: `body(piece, its offset in the tensor)`.
    /// The pages of a piece are given back once `body` returns (they stay in the page cache), so that
    /// a large tensor copied out is never resident twice.
    public func withPieces(of name: String, piece: Int = 4 << 20,
                           _ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        guard let i = index[name] else {
            throw ContainerError.tensorNotFound(path: displayName(path), name: name)
        }
        let t = header.tensors[i]
        let start = header.dataStart + t.offset
        var at = 0
        while at < t.byteCount {
            let n = min(piece, t.byteCount - at)
            try body(UnsafeRawBufferPointer(rebasing: storage.bytes[(start + at)..<(start + at + n)]), at)
            storage.drop((start + at)..<(start + at + n))
            at += n
        }
    }

    /// A copy of a tensor's bytes.
    public func data(for name: String) throws -> [UInt8] {
        try withData(for: name) { Array($0) }
    }

    /// Every byte before the data section, verbatim.
    public var headerBytes: [UInt8] { Array(storage.bytes[0..<header.dataStart]) }

    /// The mapping of the whole (decompressed) file: valid as long as this object lives. The
    /// runtime keeps pointers into it to compute on f32 weights without copying them.
    package var mappedBytes: UnsafeRawBufferPointer { storage.bytes }

    /// The whole decompressed file.
    public func withAllBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(storage.bytes)
    }
}
