import Foundation

/// The decompressed bytes of a model file, read front to back.
///
/// Backed either by a memory mapping (regular uncompressed files: every access is zero-copy) or by
/// a `RawReader` through a fixed-size buffer (pipes, stdin, zstd). `position` counts decompressed
/// bytes consumed, which is the offset every error message reports.
public final class ByteStream {
    /// The path as given (`-` for stdin); `name` is how messages show it.
    public let path: String
    public var name: String { displayName(path) }
    /// Whether the input was zstd-compressed.
    public let isCompressed: Bool
    /// Bytes consumed so far.
    public private(set) var position = 0
    /// Total length when known up front (uncompressed regular file).
    public var knownLength: Int? { mapped?.count }

    package let mapped: MappedFile?
    private let reader: RawReader?
    private var buffer: UnsafeMutableRawBufferPointer
    private var bufStart = 0
    private var bufEnd = 0
    private var readerEOF = false
    /// (device, inode) of the input file, when it is one (not stdin).
    public internal(set) var fileIdentity: (dev: UInt64, ino: UInt64)?
    /// When non-nil, every byte consumed is appended here (header capture for the rewriter).
    package var recording: [UInt8]?

    package static let chunkSize = 4 << 20

    package init(path: String, mapped: MappedFile) {
        self.path = path
        self.mapped = mapped
        self.reader = nil
        self.isCompressed = false
        self.buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    package init(path: String, reader: RawReader, compressed: Bool) {
        self.path = path
        self.mapped = nil
        self.reader = reader
        self.isCompressed = compressed
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ByteStream.chunkSize, alignment: 64)
    }

    deinit {
        if reader != nil { buffer.deallocate() }
    }

    /// Bytes available in the buffer (reader-backed streams).
    private var buffered: Int { bufEnd - bufStart }

    /// Refills the buffer so that at least `min(n, capacity)` bytes are buffered, unless the input ends.
    private func fill(atLeast n: Int) throws {
        guard let reader else { return }
        let want = Swift.min(n, buffer.count)
        if buffered >= want || readerEOF { return }
        if bufStart > 0 {
            if buffered > 0 {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + bufStart, byteCount: buffered)
            }
            bufEnd = buffered
            bufStart = 0
        }
        while bufEnd < want {
            let got = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[bufEnd...]))
            if got == 0 { readerEOF = true; break }
            bufEnd += got
        }
    }

    /// Up to `n` next bytes without consuming them (fewer at the end of the input).
    public func peek(_ n: Int) throws -> [UInt8] {
        if let mapped {
            let end = Swift.min(position + n, mapped.count)
            return Array(mapped.bytes[position..<end])
        }
        try fill(atLeast: n)
        let k = Swift.min(n, buffered)
        return Array(UnsafeRawBufferPointer(rebasing: buffer[bufStart..<(bufStart + k)]))
    }

    /// Whether every byte has been consumed.
    public func isAtEnd() throws -> Bool {
        if let mapped { return position >= mapped.count }
        try fill(atLeast: 1)
        return buffered == 0
    }

    private func consumed(_ bytes: UnsafeRawBufferPointer) {
        position += bytes.count
        if recording != nil { recording!.append(contentsOf: bytes) }
    }

    /// Exactly `n` bytes, or `ContainerError.truncated` naming `what`. Memory grows only as bytes
    /// actually arrive, so a lying length field cannot make us allocate more than the input holds.
    public func read(_ n: Int, what: @autoclosure () -> String) throws -> [UInt8] {
        var out = [UInt8]()
        if let mapped {
            guard n <= mapped.count - position else {
                throw ContainerError.truncated(path: name, offset: mapped.count, what: what())
            }
            let slice = UnsafeRawBufferPointer(rebasing: mapped.bytes[position..<(position + n)])
            out = Array(slice)
            consumed(slice)
            return out
        }
        out.reserveCapacity(Swift.min(n, ByteStream.chunkSize))
        try forEachChunk(n, what: what()) { out.append(contentsOf: $0) }
        return out
    }

    /// Consumes `n` bytes, handing them to `body` in pieces of at most `chunkSize` bytes.
    public func forEachChunk(_ n: Int, what: @autoclosure () -> String,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var left = n
        if let mapped {
            guard n <= mapped.count - position else {
                throw ContainerError.truncated(path: name, offset: mapped.count, what: what())
            }
            while left > 0 {
                let k = Swift.min(left, ByteStream.chunkSize)
                let slice = UnsafeRawBufferPointer(rebasing: mapped.bytes[position..<(position + k)])
                try body(slice)
                consumed(slice)
                left -= k
                mapped.release(upTo: position)
            }
            return
        }
        while left > 0 {
            try fill(atLeast: Swift.min(left, buffer.count))
            if buffered == 0 {
                throw ContainerError.truncated(path: name, offset: position, what: what())
            }
            let k = Swift.min(left, buffered)
            let slice = UnsafeRawBufferPointer(rebasing: buffer[bufStart..<(bufStart + k)])
            try body(slice)
            consumed(slice)
            bufStart += k
            left -= k
        }
    }

    /// Consumes `n` bytes and gives them to `body` as one contiguous buffer (zero-copy when mapped).
    public func withContiguous<R>(_ n: Int, what: @autoclosure () -> String,
                                  _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if let mapped {
            guard n <= mapped.count - position else {
                throw ContainerError.truncated(path: name, offset: mapped.count, what: what())
            }
            let slice = UnsafeRawBufferPointer(rebasing: mapped.bytes[position..<(position + n)])
            let r = try body(slice)
            consumed(slice)
            mapped.release(upTo: position)
            return r
        }
        let bytes = try read(n, what: what())
        return try bytes.withUnsafeBytes { try body($0) }
    }

    /// Reads everything that is left, up to `limit` bytes; returns the byte count and whether more
    /// bytes follow the limit.
    package func readRest(limit: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> (count: Int, more: Bool) {
        if let mapped {
            let left = mapped.count - position
            let k = Swift.min(left, limit)
            try forEachChunk(k, what: "trailing bytes", body)
            return (k, left > limit)
        }
        var total = 0
        while total < limit {
            try fill(atLeast: Swift.min(limit - total, buffer.count))
            if buffered == 0 { return (total, false) }
            let k = Swift.min(limit - total, buffered)
            let slice = UnsafeRawBufferPointer(rebasing: buffer[bufStart..<(bufStart + k)])
            try body(slice)
            consumed(slice)
            bufStart += k
            total += k
        }
        return (total, try !isAtEnd())
    }

    // MARK: little-endian scalars

    package func readUInt8(what: @autoclosure () -> String) throws -> UInt8 {
        try read(1, what: what())[0]
    }

    package func readUInt32(what: @autoclosure () -> String) throws -> UInt32 {
        let b = try read(4, what: what())
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    package func readUInt64(what: @autoclosure () -> String) throws -> UInt64 {
        let b = try read(8, what: what())
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(b[i]) }
        return v
    }
}
