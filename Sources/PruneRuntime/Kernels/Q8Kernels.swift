import CPruneKernels
import Foundation
import PruneFormats

/// The integer kernels on 8-bit activations (`prune_q8.h`): activation rows quantized per block,
/// multiplied with weights as stored (Q4_K, Q6_K, Q8_0, Q5_0, Q4_0). Opt-in (`ActivationPrecision.q8`).
/// Both paths (AVX2, portable C) give the same bits, and every output depends only on its weight row
/// and activation row.
package enum Q8Kernels {
    package enum Path: Sendable, CaseIterable {
        /// Plain C, any CPU.
        case portable
        /// AVX2 (maddubs, madd on ymm).
        case avx2
        /// AVX-512 with VNNI (zmm: maddubs and vpdpwssd for Q4_K and Q6_K, vpdpbusd for the 32-value types).
        case avx512

        var code: Int32 {
            switch self {
            case .portable: Int32(PRUNE_KPATH_PORTABLE)
            case .avx2: Int32(PRUNE_KPATH_AVX2)
            case .avx512: Int32(PRUNE_Q8PATH_AVX512)
            }
        }
    }

    /// The paths this CPU runs.
    package static let usablePaths: [Path] = {
        var p: [Path] = [.portable]
        if StoredKernels.avx2Usable { p.append(.avx2) }
        if StoredKernels.avx2Usable && prune_q8_avx512_usable() != 0 { p.append(.avx512) }
        return p
    }()

    /// The path the runtime uses: the widest this CPU runs, unless `PRUNE_KERNELS=portable` is set.
    package static let path: Path = StoredKernels.path == .portable ? .portable : usablePaths.last!

    /// Values per activation block for weights of kernel code `code` (256 or 32), nil when unsupported.
    package static func blockSize(_ code: Int32) -> Int? {
        let b = Int(prune_q8_block_size(code))
        return b > 0 ? b : nil
    }

    /// Whether rows of k values stored as `code` have a kernel.
    package static func supports(_ code: Int32, k: Int) -> Bool {
        guard let b = blockSize(code) else { return false }
        return k > 0 && k % b == 0
    }

    /// `.q8` multiplies up to `Linear.fusedMaxRows` activation rows (generation) with these kernels.
    /// More rows (prompts) keep the decoded f32 tiles and sgemm, faster on every type measured here
    /// (2 threads, quiet machine: the 1B Q4_K_M's 580-token prompt 11.38 s against 12.85 s with the
    /// q8 kernels; Gemma 3 270M's 366 tokens 3.19 s against 3.28 s; Q8_0, Q5_0 and Q4_0 more so).
    package static func forRows(_ m: Int) -> Bool { m <= Linear.fusedMaxRows }

    /// Bytes of one quantized activation row of k values.
    package static func rowBytes(_ code: Int32, k: Int) -> Int { Int(prune_q8_row_bytes(code, Int32(k))) }

    /// Quantizes m rows of k values (`ldx` apart) into `xq` (`rowBytes` apart).
    package static func quantize(_ code: Int32, _ x: UnsafePointer<Float>, ldx: Int, rows m: Int, k: Int,
                                 into xq: UnsafeMutableRawPointer) {
        prune_q8_quantize(code, x, ldx, Int32(m), Int32(k), xq)
    }

    /// `y[i·ldy + r] = W[r, :] · xq[i]` for `rows` stored rows at `w` and m quantized rows.
    package static func gemm(_ code: Int32, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int, k: Int,
                             xq: UnsafeRawPointer, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                             path: Path = Q8Kernels.path) {
        prune_q8_gemm(path.code, code, w, rowBytes, Int32(rows), Int32(k), xq, Int32(m), y, ldy)
    }
}
