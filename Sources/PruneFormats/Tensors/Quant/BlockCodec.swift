/// One ggml block format: how `valuesPerBlock` f32 values map to `bytesPerBlock` bytes.
///
/// Implementations work on raw pointers over whole blocks; the caller (`TensorCodec`) has checked
/// sizes, finiteness of encoder input, and splits the work into block ranges. Blocks are
/// independent, so the result never depends on how the range is split.
package protocol BlockCodec {
    /// The ggml type this codec reads and writes.
    static var type: GGMLType { get }
    /// Decodes one block into `valuesPerBlock` values.
    static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>)
    /// Decode `blocks` consecutive blocks (default: `decodeBlock` on each).
    static func decode(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int)
    /// Encode `blocks` consecutive blocks. Returns the index (within this range) of the first block
    /// whose f16 scale would overflow, or nil when all are representable.
    static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int?
}

/// Codecs whose blocks encode one at a time without shared scratch (the legacy 32-value types).
package protocol SingleBlockEncoder: BlockCodec {
    /// Encodes one block; false when its f16 scale (or min) overflows.
    static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool
}

extension BlockCodec {
    package static var valuesPerBlock: Int { type.blockSize }
    package static var bytesPerBlock: Int { type.blockBytes }

    package static func decode(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks { decodeBlock(src + b * bytesPerBlock, into: dst + b * valuesPerBlock) }
    }
}

extension SingleBlockEncoder {
    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int? {
        var failed: Int?
        for b in 0..<blocks {
            let fits = encodeBlock(src + b * valuesPerBlock, into: dst + b * bytesPerBlock)
            if failed == nil && !fits { failed = b }
        }
        return failed
    }
}

/// Small helpers shared by the block codecs.
package enum QuantMath {
    @inline(__always)
    package static func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfFloat.toFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
    }

    @inline(__always)
    package static func storeHalf(_ value: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: HalfFloat.fromFloat(value).littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// Whether `value` rounds to a finite f16.
    @inline(__always)
    package static func fitsHalf(_ value: Float) -> Bool {
        HalfFloat.fromFloat(value) & 0x7c00 != 0x7c00
    }

    /// Whether the `n` values at `p` are all finite (a sub-block fit overflowed otherwise).
    @inline(__always)
    package static func allFinite(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
        for i in 0..<n where !p[i].isFinite { return false }
        return true
    }

    /// C's float → unsigned char conversion as x86 performs it (and therefore as NumPy's
    /// `astype(np.uint8)` does): truncate to a 32-bit int, keep the low byte; NaN and values out of
    /// the int32 range give 0.
    @inline(__always)
    package static func truncToByte(_ x: Float) -> UInt8 {
        guard x > -2147483648.0, x < 2147483648.0 else { return 0 }
        return UInt8(truncatingIfNeeded: Int32(x))
    }

    /// `nearestInt` without the range guard: exactly ggml's `nearest_int` as compiled in release
    /// (its assert off), used in the scale searches where results are clamped to the level range
    /// right after. Same as `nearestInt` whenever |x| ≤ 4194303; never traps.
    @inline(__always)
    package static func nearestIntBounded(_ x: Float) -> Int32 {
        let shifted = x + 12582912
        return Int32(bitPattern: shifted.bitPattern & 0x007f_ffff) - 0x0040_0000
    }

    /// ggml's `nearest_int`: round to nearest, ties to even, for |x| ≤ 4194303.
    /// Out-of-range values are clamped first and NaN gives 0, so it never traps.
    @inline(__always)
    package static func nearestInt(_ x: Float) -> Int32 {
        guard x == x else { return 0 }
        let clamped = Swift.min(Swift.max(x, -4194303), 4194303)
        let shifted = clamped + 12582912
        return Int32(bitPattern: shifted.bitPattern & 0x007f_ffff) - 0x0040_0000
    }
}
