import Foundation
import CZstd

/// A sequential producer of bytes. `read` returns 0 only at the end of the input.
package protocol RawReader: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads a file descriptor (pipe, terminal, character device or plain file) with read(2).
package final class FDReader: RawReader {
    package let fd: Int32
    package let path: String
    private let closeOnDeinit: Bool
    package private(set) var consumed = 0

    package init(fd: Int32, path: String, closeOnDeinit: Bool) {
        self.fd = fd
        self.path = path
        self.closeOnDeinit = closeOnDeinit
    }

    deinit { if closeOnDeinit { close(fd) } }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n >= 0 { consumed += n; return n }
            if errno == EINTR { continue }
            throw ContainerError.readFailed(path: displayName(path), offset: consumed, reason: errnoText(errno))
        }
    }
}

/// Hands out bytes of a memory-mapped file, releasing pages behind the cursor.
package final class MappedReader: RawReader {
    package let file: MappedFile
    private var pos = 0

    package init(file: MappedFile) { self.file = file }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, file.count - pos)
        guard n > 0, let dst = buffer.baseAddress, let src = file.bytes.baseAddress else { return 0 }
        dst.copyMemory(from: src + pos, byteCount: n)
        pos += n
        file.release(upTo: pos)
        return n
    }
}

/// Yields `prefix` first, then the rest of `rest` (used after peeking at a magic number).
package final class PrefixedReader: RawReader {
    private var prefix: [UInt8]
    private var used = 0
    private let rest: RawReader

    package init(prefix: [UInt8], rest: RawReader) {
        self.prefix = prefix
        self.rest = rest
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if used < prefix.count {
            let n = min(buffer.count, prefix.count - used)
            prefix.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + used, byteCount: n)
            }
            used += n
            return n
        }
        return try rest.read(into: buffer)
    }
}

/// Decompresses a zstd stream (any number of frames, skippable frames included).
package final class ZstdReader: RawReader {
    private let input: RawReader
    private let path: String
    private let dctx: OpaquePointer
    private var inBuf: UnsafeMutableRawBufferPointer
    private var inPos = 0
    private var inEnd = 0
    private var inputEOF = false
    private var compressedConsumed = 0
    /// The last ZSTD_decompressStream result: 0 means a frame just ended.
    private var frameHint = 0
    private var sawFrame = false

    package init(input: RawReader, path: String) throws {
        self.input = input
        self.path = path
        guard let d = ZSTD_createDCtx() else {
            throw ContainerError.zstdFailed(path: displayName(path), reason: "cannot create a decompression context")
        }
        dctx = d
        // Bound the window (and so the memory) a frame may ask for: 2^27 = 128 MiB, zstd's default.
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27)
        inBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        inBuf.deallocate()
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos == 0 {
            if inPos == inEnd {
                if inputEOF { break }
                let n = try input.read(into: inBuf)
                if n == 0 {
                    inputEOF = true
                    break
                }
                inPos = 0
                inEnd = n
            }
            var inb = ZSTD_inBuffer(src: inBuf.baseAddress, size: inEnd, pos: inPos)
            let ret = ZSTD_decompressStream(dctx, &out, &inb)
            compressedConsumed += inb.pos - inPos
            inPos = inb.pos
            if ZSTD_isError(ret) != 0 {
                let reason = String(cString: ZSTD_getErrorName(ret))
                throw ContainerError.zstdCorrupt(path: displayName(path), offset: compressedConsumed, reason: reason)
            }
            sawFrame = true
            frameHint = ret
        }
        if out.pos == 0 && inputEOF {
            // End of the compressed input: it must end exactly at a frame boundary.
            if frameHint != 0 || !sawFrame {
                throw ContainerError.zstdTruncated(path: displayName(path), offset: compressedConsumed)
            }
        }
        return out.pos
    }
}

/// Bytes from memory, handed out in pieces of at most `step` bytes (to exercise buffer refills).
package final class MemoryReader: RawReader {
    private let data: [UInt8]
    private let step: Int
    private var pos = 0

    package init(_ data: [UInt8], step: Int = 1 << 20) {
        self.data = data
        self.step = max(1, step)
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, data.count - pos, step)
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pos, byteCount: n) }
        pos += n
        return n
    }
}
