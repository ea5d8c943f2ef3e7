import CZstd
import PruneFormats
import PruneFormats

/// The residual that makes revert exact. Revert computes `reconstructed` = encode(decode(output) −
/// restrained delta); the residual holds what separates it from the base bytes:
///
/// - `zstd-diff16` / `zstd-diff32` (tensors of 2- or 4-byte floats: F16, BF16, F32): per element the
///   difference base − reconstructed of the little-endian bit patterns, as a zigzag-coded integer
///   (0, 1, −1, 2 … → 0, 1, 2, 3 …), split into byte planes (all low bytes, then the next bytes …),
///   zstd-compressed. Where fl(fl(a + d) − d) = a the difference is 0; elsewhere it is a few units in
///   the last place, so the high planes are zero and the low plane is small.
/// - `zstd-xor` (every other type, e.g. quantized blocks): zstd(base XOR reconstructed).
///
/// prune-apply writes `lost-bits` (`LostBits`) and `xor-blocks` (`XorBlocks`) residuals since format 2;
/// these two codecs remain for the residuals of `prune-diff --sidecar` (where the edit was not made
/// by prune's kernel) and are read in every format-1 sidecar. Compression is zstd at a fast level,
/// multi-threaded (`ZstdBuffer`: bytes independent of the thread count); format-1 files used level 19.
public enum Residual {
    public static let xor = "zstd-xor"
    public static let diff16 = "zstd-diff16"
    public static let diff32 = "zstd-diff32"
    /// Every codec a sidecar may name.
    public static let codecs: Set<String> = [xor, diff16, diff32, LostBits.codec, XorBlocks.codec]

    /// The codec for a stored element width in bytes (nil for block-quantized or packed types).
    public static func codec(elementBytes: Int?) -> String {
        switch elementBytes {
        case 2: return diff16
        case 4: return diff32
        default: return xor
        }
    }

    /// The compressed residual of `base` against `reconstructed` (same length).
    public static func make(base: UnsafeRawBufferPointer, reconstructed: [UInt8], codec: String,
                            threads: Int = 1) throws -> [UInt8] {
        guard base.count == reconstructed.count else {
            throw SidecarError.builder("residual: base has \(base.count) bytes, reconstruction \(reconstructed.count)")
        }
        let n = base.count
        var x = [UInt8](repeating: 0, count: n)
        switch codec {
        case diff16, diff32:
            let w = codec == diff16 ? 2 : 4
            guard n % w == 0 else { throw SidecarError.builder("residual: \(n) bytes are not whole \(w)-byte elements") }
            let count = n / w
            reconstructed.withUnsafeBytes { r in
                for i in 0..<count {
                    let d = load(base, i, w) &- load(r, i, w)
                    // zigzag over w bytes: sign bit to the bottom
                    let bits = UInt32(w * 8)
                    let mask: UInt32 = w == 4 ? .max : 0xFFFF
                    let signed = d & mask
                    let neg = (signed >> (bits - 1)) & 1
                    let z = ((signed << 1) ^ (neg == 1 ? mask : 0)) & mask
                    for p in 0..<w { x[p * count + i] = UInt8(truncatingIfNeeded: z >> (8 * UInt32(p))) }
                }
            }
        default:
            reconstructed.withUnsafeBytes { r in
                for i in 0..<n { x[i] = base[i] ^ r[i] }
            }
        }
        do { return try ZstdBuffer.compress(x, threads: threads) } catch let e as ZstdBufferError {
            throw SidecarError.builder("residual: " + e.reason)
        }
    }

    /// Undoes `make`: turns `reconstructed` into the base bytes.
    public static func apply(_ residual: [UInt8], codec: String, length: Int, to reconstructed: inout [UInt8],
                             path: String, tensor: String) throws {
        guard reconstructed.count == length else {
            throw SidecarError.residual(path: path, tensor: tensor, reason: "length \(length), tensor has \(reconstructed.count) bytes")
        }
        let x = try decompress(residual, length: length, path: path, tensor: tensor)
        switch codec {
        case diff16, diff32:
            let w = codec == diff16 ? 2 : 4
            guard length % w == 0 else {
                throw SidecarError.residual(path: path, tensor: tensor, reason: "\(length) bytes are not whole \(w)-byte elements")
            }
            let count = length / w
            let mask: UInt32 = w == 4 ? .max : 0xFFFF
            reconstructed.withUnsafeMutableBytes { r in
                for i in 0..<count {
                    var z: UInt32 = 0
                    for p in 0..<w { z |= UInt32(x[p * count + i]) << (8 * UInt32(p)) }
                    let d = ((z >> 1) ^ ((z & 1) == 1 ? mask : 0)) & mask
                    let v = (load(UnsafeRawBufferPointer(r), i, w) &+ d) & mask
                    for p in 0..<w { r[i * w + p] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(p))) }
                }
            }
        case xor:
            for i in 0..<length { reconstructed[i] ^= x[i] }
        default:
            throw SidecarError.residual(path: path, tensor: tensor, reason: "unknown codec \(codec)")
        }
    }

    @inline(__always)
    private static func load(_ b: UnsafeRawBufferPointer, _ i: Int, _ w: Int) -> UInt32 {
        w == 4 ? UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
               : UInt32(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    }

    private static func decompress(_ residual: [UInt8], length: Int, path: String, tensor: String) throws -> [UInt8] {
        let size = residual.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard size == UInt64(length) else {
            throw SidecarError.residual(path: path, tensor: tensor, reason: "zstd frame does not hold \(length) bytes")
        }
        var x = [UInt8](repeating: 0, count: length)
        let n = x.withUnsafeMutableBytes { o in
            residual.withUnsafeBytes { i in ZSTD_decompress(o.baseAddress, o.count, i.baseAddress, i.count) }
        }
        guard ZSTD_isError(n) == 0, n == length else {
            throw SidecarError.residual(path: path, tensor: tensor, reason: "zstd cannot decompress it")
        }
        return x
    }
}
