/// SHA-256 digests of one tensor's bytes before and after a rewrite.
public struct TensorDigest: Sendable, Equatable {
    public var input: String
    public var output: String
    public var replaced: Bool
}

/// What a rewrite read and wrote.
public struct RewriteSummary: Sendable {
    /// The input header (the output's is byte-identical).
    public var header: ModelHeader
    /// SHA-256 of the decompressed input stream.
    public var inputSHA256: String
    /// SHA-256 of the decompressed output stream (equal to `inputSHA256` when nothing was replaced).
    public var outputSHA256: String
    /// Decompressed sizes (equal: replacements keep sizes).
    public var inputBytes: Int
    public var outputBytes: Int
    /// Bytes written to the destination (compressed size when compressing).
    public var writtenBytes: Int
    public var inputWasCompressed: Bool
    /// Digests of the selected tensors, by name.
    public var tensors: [String: TensorDigest]
    /// Names of the tensors whose bytes were replaced, in data order.
    public var replaced: [String]
    /// Seconds spent handing bytes to the output (compressing and writing), and in `transform`.
    public var outputSeconds: Double = 0
    public var transformSeconds: Double = 0
}
