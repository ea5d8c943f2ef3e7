import CPruneKernels
import Foundation
import PruneFormats

/// The C kernels on weights as stored (`CPruneKernels`): fused dequantize-and-multiply for few
/// activation rows, and a row decoder for the tile decode of many rows.
///
/// Types: F16, BF16 (ggml and safetensors), Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K,
/// Q6_K. Any other type TensorCodec decodes (F64, the F8/F4 safetensors types, IQ…) keeps the
/// TensorCodec decode + BLAS path. The three paths (AVX-512, AVX2+FMA+F16C, portable C) give the
/// same bits; the widest the CPU runs is chosen, unless `PRUNE_KERNELS=portable` is set. The AVX-512
/// path has gemv kernels of its own for Q4_0, Q4_1, Q4_K and Q6_K and runs the AVX2 ones otherwise.
package enum StoredKernels {
    package enum Path: Sendable {
        case portable, avx2, avx512
        var code: Int32 {
            switch self {
            case .portable: Int32(PRUNE_KPATH_PORTABLE)
            case .avx2: Int32(PRUNE_KPATH_AVX2)
            case .avx512: Int32(PRUNE_KPATH_AVX512)
            }
        }
    }

    /// Whether the AVX2 path runs on this CPU.
    package static let avx2Usable: Bool = prune_kernels_avx2_usable() != 0

    /// The paths this CPU runs, narrowest first.
    package static let usablePaths: [Path] = {
        var p: [Path] = [.portable]
        if avx2Usable { p.append(.avx2) }
        if prune_kernels_avx512_usable() != 0 { p.append(.avx512) }
        return p
    }()

    /// The path the runtime uses: the widest this CPU runs, unless the environment asks for the portable one.
    package static let path: Path = {
        if ProcessInfo.processInfo.environment["PRUNE_KERNELS"] == "portable" { return .portable }
        return usablePaths.last!
    }()

    /// The kernels' code for `type`, nil when it has no kernel.
    package static func code(_ type: TensorType) -> Int32? {
        let id: UInt32
        switch type {
        case .ggml(let g): id = g.rawValue
        case .safetensors(.f16): id = GGMLType.f16.rawValue
        case .safetensors(.bf16): id = GGMLType.bf16.rawValue
        case .safetensors: return nil
        }
        return prune_kernels_supports(Int32(id)) != 0 ? Int32(id) : nil
    }

    /// `y[i·ldy + r] = Σ_c W[r, c]·x[i·ldx + c]` for `rows` stored rows at `w` (`rowBytes` apart, k values each).
    @inline(__always)
    package static func gemv(_ code: Int32, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int, k: Int,
                             x: UnsafePointer<Float>, ldx: Int, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                             path: Path = StoredKernels.path) {
        prune_kernels_gemv(path.code, code, w, rowBytes, Int32(rows), Int32(k), x, ldx, Int32(m), y, ldy)
    }

    /// Stored rows as f32 (`dst[r·ldd + c]`), the bits TensorCodec decodes.
    @inline(__always)
    package static func decode(_ code: Int32, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int, k: Int,
                               into dst: UnsafeMutablePointer<Float>, ldd: Int, path: Path = StoredKernels.path) {
        prune_kernels_decode(path.code, code, w, rowBytes, Int32(rows), Int32(k), dst, ldd)
    }
}
