import Foundation
import CZstd

/// A destination for the bytes of a rewritten file.
package protocol OutputSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes everything; the output is complete afterwards.
    func finish() throws
    /// Bytes handed to the underlying file descriptor so far.
    var bytesWritten: Int { get }
}

/// Writes to a file descriptor with write(2), retrying short writes.
package final class FDSink: OutputSink {
    package let fd: Int32
    package let name: String
    package private(set) var bytesWritten = 0

    package init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, base + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw ContainerError.writeFailed(path: name, reason: errnoText(errno))
            }
            off += n
        }
        bytesWritten += bytes.count
    }

    package func finish() throws {}
}

/// Drops everything (validation-only passes).
package final class DiscardSink: OutputSink {
    package private(set) var bytesWritten = 0
    package func write(_ bytes: UnsafeRawBufferPointer) throws { bytesWritten += bytes.count }
    package func finish() throws {}
}

/// Compresses into another sink with zstd (multi-threaded; content checksum on, like the zstd CLI).
package final class ZstdSink: OutputSink {
    private let next: OutputSink
    private let name: String
    private let cctx: OpaquePointer
    private var outBuf: UnsafeMutableRawBufferPointer
    package var bytesWritten: Int { next.bytesWritten }

    package init(next: OutputSink, name: String, level: Int32, threads: Int, pledgedSize: Int?) throws {
        self.next = next
        self.name = name
        guard let c = ZSTD_createCCtx() else {
            throw ContainerError.zstdFailed(path: name, reason: "cannot create a compression context")
        }
        cctx = c
        outBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(ZSTD_CStreamOutSize(), 1 << 20), alignment: 64)
        let workers = ThreadCount.resolved(threads)
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1))
        let r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, Int32(clamping: workers))
        if ZSTD_isError(r) != 0 {
            throw ContainerError.zstdFailed(path: name, reason: "this libzstd has no multi-threading support")
        }
        if let pledgedSize { try check(ZSTD_CCtx_setPledgedSrcSize(cctx, UInt64(pledgedSize))) }
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        outBuf.deallocate()
    }

    private func check(_ code: Int) throws {
        if ZSTD_isError(code) != 0 {
            throw ContainerError.zstdFailed(path: name, reason: String(cString: ZSTD_getErrorName(code)))
        }
    }

    private func drain(_ out: inout ZSTD_outBuffer) throws {
        if out.pos > 0 {
            try next.write(UnsafeRawBufferPointer(start: outBuf.baseAddress, count: out.pos))
            out.pos = 0
        }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        var out = ZSTD_outBuffer(dst: outBuf.baseAddress, size: outBuf.count, pos: 0)
        while input.pos < input.size {
            let r = ZSTD_compressStream2(cctx, &out, &input, ZSTD_e_continue)
            try check(r)
            try drain(&out)
        }
    }

    package func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        var out = ZSTD_outBuffer(dst: outBuf.baseAddress, size: outBuf.count, pos: 0)
        while true {
            let r = ZSTD_compressStream2(cctx, &out, &input, ZSTD_e_end)
            try check(r)
            try drain(&out)
            if r == 0 { break }
        }
        try next.finish()
    }
}
