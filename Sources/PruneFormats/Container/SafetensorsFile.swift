/// Random access to a safetensors file: the validated header and each tensor's bytes by name.
///
/// A regular uncompressed file is memory-mapped and accessed zero-copy; `-` (stdin), pipes and
/// `.zst` input are decompressed once into an unlinked temporary file which is then mapped.
public final class SafetensorsFile: @unchecked Sendable {
    public let header: SafetensorsHeader
    /// The mapping and the lookup of tensors by name, as for a model file of either format.
    private let file: ModelFile

    public init(path: String) throws {
        let (mapped, compressed) = try ModelInput.mapWhole(path)
        let stream = ByteStream(path: path, mapped: mapped)
        let format = try ModelInput.detectFormat(stream)
        guard format == .safetensors else {
            throw ContainerError.wrongFormat(path: displayName(path), expected: .safetensors, found: format)
        }
        self.header = try SafetensorsParser.parseHeader(stream)
        self.file = ModelFile(path: path, header: .safetensors(header), mapped: mapped, compressed: compressed)
    }

    public var path: String { file.path }
    /// Whether the input was zstd-compressed.
    public var wasCompressed: Bool { file.wasCompressed }
    /// Tensors in data order.
    public var tensors: [TensorInfo] { header.tensors }
    /// `__metadata__` in header order (empty when absent).
    public var metadata: [MetadataEntry] { header.metadata ?? [] }

    public func info(named name: String) -> TensorInfo? { file.info(named: name) }

    /// Zero-copy access to a tensor's bytes; the buffer is valid only inside `body`.
    public func withData<R>(for name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try file.withData(for: name, body)
    }

    /// A tensor's bytes in pieces, each given back once read (`ModelFile.withPieces`).
    public func withPieces(of name: String, piece: Int = 4 << 20,
                           _ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        try file.withPieces(of: name, piece: piece, body)
    }

    /// A copy of a tensor's bytes.
    public func data(for name: String) throws -> [UInt8] { try file.data(for: name) }

    /// The header bytes (length prefix + JSON), verbatim.
    public var headerBytes: [UInt8] { file.headerBytes }
}
