/// Entry point for fuzzing both parsers on in-memory bytes (used by Benchmarks/prune-fuzz).
public enum ParserFuzzEntry {
    /// How the bytes are presented to the parser.
    public enum Mode: CaseIterable, Sendable {
        /// As a regular file of known length (the mmap path).
        case buffer
        /// As a pipe delivering `step`-byte pieces (the streaming path, with buffer refills).
        case stream
        /// As zstd-compressed data (the bytes are a zstd stream).
        case zstd
    }

    /// Validates `bytes` as a model file to its last byte (header, every tensor, padding, trailing
    /// bytes). Returns the number of tensors; throws the first problem found. Must never trap.
    @discardableResult
    public static func check(_ bytes: [UInt8], mode: Mode, step: Int = 1 << 20) throws -> Int {
        let name = "fuzz-input"
        let stream: ByteStream
        switch mode {
        case .buffer:
            stream = ByteStream(path: name, mapped: MappedFile(copying: bytes))
        case .stream:
            stream = ByteStream(path: name, reader: MemoryReader(bytes, step: step), compressed: false)
        case .zstd:
            stream = ByteStream(path: name, reader: try ZstdReader(input: MemoryReader(bytes, step: step), path: name), compressed: true)
        }
        let summary = try ModelRewriter(input: name, output: .discard, options: .uncompressed)
            .run(stream: stream, select: { h in Set(h.tensors.prefix(2).map(\.name)) }, transform: { _, _ in nil })
        return summary.header.tensors.count
    }
}
