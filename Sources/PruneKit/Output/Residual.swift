import CZstd

/// The residual that makes revert exact: zstd(base XOR reconstructed), where `reconstructed` is what
/// revert computes without it, encode(decode(output) − restrained delta). For float tensors the two
/// agree almost everywhere (fl(fl(a + d) − d) = a except near rounding ties), so the XOR is nearly
/// all zeros and compresses to a few bytes.
public enum Residual {
    /// The codec name recorded in the sidecar.
    public static let codec = "zstd-xor"
    /// Fixed so that the same inputs always give the same residual bytes.
    static let level: Int32 = 15

    /// The compressed residual of `base` against `reconstructed` (same length).
    public static func make(base: UnsafeRawBufferPointer, reconstructed: [UInt8]) throws -> [UInt8] {
        guard base.count == reconstructed.count else {
            throw SidecarError.builder("residual: base has \(base.count) bytes, reconstruction \(reconstructed.count)")
        }
        var x = reconstructed
        x.withUnsafeMutableBytes { out in
            for i in 0..<out.count { out[i] ^= base[i] }
        }
        let bound = ZSTD_compressBound(x.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { o in
            x.withUnsafeBytes { i in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, level) }
        }
        guard ZSTD_isError(n) == 0 else {
            throw SidecarError.builder("residual: zstd: \(String(cString: ZSTD_getErrorName(n)))")
        }
        out.removeSubrange(n...)
        return out
    }

    /// Undoes `make`: XORs the decompressed residual into `reconstructed`, giving the base bytes.
    public static func apply(_ residual: [UInt8], length: Int, to reconstructed: inout [UInt8],
                             path: String, tensor: String) throws {
        guard reconstructed.count == length else {
            throw SidecarError.residual(path: path, tensor: tensor, reason: "length \(length), tensor has \(reconstructed.count) bytes")
        }
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
        for i in 0..<length { reconstructed[i] ^= x[i] }
    }
}
