import CZstd
import Foundation

/// One-shot zstd compression of a buffer in memory, multi-threaded, whose bytes do not depend on
/// the number of threads.
///
/// zstd only promises that for *streaming* multi-threaded compression: a first call with
/// `ZSTD_e_end` and an output buffer of `ZSTD_compressBound` size takes a one-pass shortcut whose job
/// split depends on the worker count (facebook/zstd#2327). So the input is always fed with
/// `ZSTD_e_continue` first and drained through a fixed 1 MiB output buffer (smaller than the bound
/// of any input over 1 MiB), and compression always runs in multi-threaded mode (`nbWorkers` ≥ 1,
/// whose output is the same for every worker count; 0 would be the different single-thread format).
package enum ZstdBuffer {
    /// The fast level used for sidecar parts (zstd's default).
    package static let fastLevel: Int32 = 3

    package static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = fastLevel, threads: Int) throws -> [UInt8] {
        guard let cctx = ZSTD_createCCtx() else { throw ZstdBufferError.failed("cannot create a compression context") }
        defer { ZSTD_freeCCtx(cctx) }
        func check(_ r: Int) throws {
            if ZSTD_isError(r) != 0 { throw ZstdBufferError.failed(String(cString: ZSTD_getErrorName(r))) }
        }
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1))
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, Int32(clamping: max(1, threads))))
        try check(ZSTD_CCtx_setPledgedSrcSize(cctx, UInt64(input.count)))
        let chunk = 1 << 20
        let outBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { outBuf.deallocate() }
        var result: [UInt8] = []
        var inb = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        // e_continue over the whole input, then e_end: the streaming path.
        while inb.pos < inb.size {
            var outb = ZSTD_outBuffer(dst: outBuf.baseAddress, size: chunk, pos: 0)
            try check(ZSTD_compressStream2(cctx, &outb, &inb, ZSTD_e_continue))
            result.append(contentsOf: UnsafeRawBufferPointer(start: outBuf.baseAddress, count: outb.pos))
        }
        while true {
            var outb = ZSTD_outBuffer(dst: outBuf.baseAddress, size: chunk, pos: 0)
            let r = ZSTD_compressStream2(cctx, &outb, &inb, ZSTD_e_end)
            try check(r)
            result.append(contentsOf: UnsafeRawBufferPointer(start: outBuf.baseAddress, count: outb.pos))
            if r == 0 { break }
        }
        return result
    }

    package static func compress(_ input: [UInt8], level: Int32 = fastLevel, threads: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0, level: level, threads: threads) }
    }

    /// Decompresses one or more frames that must hold exactly `length` bytes.
    package static func decompress(_ input: UnsafeRawBufferPointer, length: Int) throws -> [UInt8] {
        guard let dctx = ZSTD_createDCtx() else { throw ZstdBufferError.failed("cannot create a decompression context") }
        defer { ZSTD_freeDCtx(dctx) }
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27)
        var out = [UInt8](repeating: 0, count: length)
        var inb = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var last = 0
        try out.withUnsafeMutableBytes { o in
            var outb = ZSTD_outBuffer(dst: o.baseAddress, size: o.count, pos: 0)
            while inb.pos < inb.size {
                let (i0, o0) = (inb.pos, outb.pos)
                let r = ZSTD_decompressStream(dctx, &outb, &inb)
                if ZSTD_isError(r) != 0 { throw ZstdBufferError.corrupt(String(cString: ZSTD_getErrorName(r))) }
                last = r
                if inb.pos == i0 && outb.pos == o0 { throw ZstdBufferError.corrupt("more than \(length) bytes") }
            }
            guard outb.pos == length else { throw ZstdBufferError.corrupt("\(outb.pos) bytes instead of \(length)") }
        }
        guard last == 0 else { throw ZstdBufferError.corrupt("truncated frame") }
        return out
    }

    /// The decompressed size the first frame records (nil when it records none or is not zstd).
    package static func contentSize(_ input: UnsafeRawBufferPointer) -> Int? {
        let n = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        guard n != ZSTD_CONTENTSIZE_UNKNOWN, n != ZSTD_CONTENTSIZE_ERROR, n <= UInt64(Int.max) else { return nil }
        return Int(n)
    }

    package static func decompress(_ input: [UInt8], length: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, length: length) }
    }
}

package enum ZstdBufferError: Error, Sendable, Equatable {
    case failed(String)
    case corrupt(String)

    package var reason: String {
        switch self {
        case .failed(let r): return "zstd: " + r
        case .corrupt(let r): return "zstd data is damaged (" + r + ")"
        }
    }
}
