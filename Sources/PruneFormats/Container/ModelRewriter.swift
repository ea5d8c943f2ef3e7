import Foundation

/// The streaming model rewriter: one pass over the input in file order — header bytes, then each
/// tensor's bytes in data order, padding verbatim — writing the same container with chosen tensors'
/// bytes replaced by same-size bytes. Header, metadata, KV order, tensor order and padding are
/// preserved byte for byte, so an empty rewrite reproduces the input exactly (after decompression).
///
/// Memory stays bounded whatever the file size: data moves in 4 MiB chunks (mapped input pages are
/// released behind the cursor); only selected tensors are handed to `transform` whole.
public struct ModelRewriter: Sendable {
    public var input: String
    public var output: OutputTarget
    public var options: OutputOptions
    /// How errors name the output (the user's path when `output` is a staging file); default
    /// `output.name`.
    public var outputName: String?

    public init(input: String, output: OutputTarget, options: OutputOptions = .default, outputName: String? = nil) {
        self.input = input
        self.output = output
        self.options = options
        self.outputName = outputName
    }

    /// Runs the rewrite.
    /// - Parameters:
    ///   - select: called once with the validated header, before any output is created; returns the
    ///     names of the tensors `transform` sees (and whose digests the summary carries). An unknown
    ///     name is an error.
    ///   - transform: called for each selected tensor, in data order, with its bytes; returns nil to
    ///     keep them, or replacement bytes of exactly the same length.
    /// On any error the output file is not created (a partial temporary file is removed).
    @discardableResult
    public func run(
        select: (ModelHeader) throws -> Set<String> = { _ in [] },
        transform: (TensorInfo, UnsafeRawBufferPointer) throws -> [UInt8]? = { _, _ in nil }
    ) throws -> RewriteSummary {
        try run(stream: try ModelInput.open(input, releaseBehind: true), select: select, transform: transform)
    }

    /// The rewrite over an already-open stream (`input` is then only used for the same-file check).
    package func run(
        stream: ByteStream,
        select: (ModelHeader) throws -> Set<String>,
        transform: (TensorInfo, UnsafeRawBufferPointer) throws -> [UInt8]?
    ) throws -> RewriteSummary {
        stream.recording = []
        let header = try ModelHeader.parse(stream)
        let headerBytes = stream.recording ?? []
        stream.recording = nil

        let selected = try select(header)
        let names = Set(header.tensors.map(\.name))
        if let missing = selected.subtracting(names).sorted().first {
            throw ContainerError.tensorNotFound(path: stream.name, name: missing)
        }

        // Open the destination only now: a bad input or selection leaves nothing behind.
        var atomic: AtomicOutputFile? = nil
        let base: OutputSink
        var discard = false
        switch output {
        case .file(let path):
            let file = try AtomicOutputFile(path: path, inputIdentity: stream.fileIdentity,
                                            inputPath: input == "-" ? nil : input, name: outputName)
            atomic = file
            base = FDSink(fd: file.fd, name: file.name)
        case .stdout:
            base = FDSink(fd: 1, name: "<stdout>")
        case .discard:
            base = DiscardSink()
            discard = true
        }
        defer { atomic?.abort() }
        let sink: OutputSink = options.compress && !discard
            ? try ZstdSink(next: base, name: outputName ?? output.name, level: options.level, threads: options.threads,
                           pledgedSize: stream.knownLength)
            : base

        let inHash = SHA256Hasher()
        var outHash: SHA256Hasher? = nil      // nil while the output equals the input so far
        var outCount = 0
        var outputNanos: UInt64 = 0, transformNanos: UInt64 = 0
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            let t = DispatchTime.now().uptimeNanoseconds
            defer { outputNanos += DispatchTime.now().uptimeNanoseconds - t }
            try sink.write(bytes)
        }
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            inHash.update(bytes)
            outHash?.update(bytes)
            try write(bytes)
            outCount += bytes.count
        }

        try headerBytes.withUnsafeBytes { try emit($0) }
        var digests: [String: TensorDigest] = [:]
        var replaced: [String] = []
        for t in header.tensors {
            let start = header.dataStart + t.offset
            let gap = start - stream.position
            if gap > 0 { try stream.forEachChunk(gap, what: "the padding before tensor '\(t.name)'") { try emit($0) } }
            let what = "the data of tensor '\(t.name)'"
            if selected.contains(t.name) {
                try stream.withContiguous(t.byteCount, what: what) { bytes in
                    let before = SHA256Hasher.hex(bytes)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let replacement = try transform(t, bytes)
                    transformNanos += DispatchTime.now().uptimeNanoseconds - t0
                    if let new = replacement {
                        guard new.count == bytes.count else {
                            throw ContainerError.replacementWrongSize(path: stream.name, tensor: t.name, expected: bytes.count, got: new.count)
                        }
                        if outHash == nil { outHash = inHash.copy() }
                        inHash.update(bytes)
                        try new.withUnsafeBytes { nb in
                            outHash?.update(nb)
                            try write(nb)
                        }
                        outCount += new.count
                        digests[t.name] = TensorDigest(input: before, output: SHA256Hasher.hex(new), replaced: true)
                        replaced.append(t.name)
                    } else {
                        try emit(bytes)
                        digests[t.name] = TensorDigest(input: before, output: before, replaced: false)
                    }
                }
            } else {
                try stream.forEachChunk(t.byteCount, what: what) { try emit($0) }
            }
        }
        // After the last tensor: GGUF may carry alignment padding; safetensors nothing.
        switch header {
        case .safetensors(let h):
            if try !stream.isAtEnd() {
                let (n, more) = try stream.readRest(limit: 1 << 20) { _ in }
                throw SafetensorsError.trailingBytes(path: stream.name, dataEnd: h.fileLength, extra: more ? "more than \(n)" : String(n))
            }
        case .gguf(let h):
            let paddedEnd = h.dataStart + h.paddedDataLength
            let (_, more) = try stream.readRest(limit: max(0, paddedEnd - stream.position)) { try emit($0) }
            if more { throw GGUFError.trailingBytes(path: stream.name, offset: stream.position, extra: "some") }
        }
        let tf = DispatchTime.now().uptimeNanoseconds
        try sink.finish()
        try atomic?.commit()
        outputNanos += DispatchTime.now().uptimeNanoseconds - tf

        let inDigest = inHash.finalizeHex()
        return RewriteSummary(
            header: header, inputSHA256: inDigest, outputSHA256: outHash?.finalizeHex() ?? inDigest,
            inputBytes: stream.position, outputBytes: outCount, writtenBytes: sink.bytesWritten,
            inputWasCompressed: stream.isCompressed, tensors: digests, replaced: replaced,
            outputSeconds: Double(outputNanos) / 1e9, transformSeconds: Double(transformNanos) / 1e9)
    }
}
