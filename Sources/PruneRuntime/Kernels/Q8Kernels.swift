import CPruneKernels
import Foundation
import PruneFormats

/// The integer kernels on 8-bit activations (`prune_q8.h`): activation rows quantized per block,
/// multiplied with weights as stored (Q4_K, Q6_K, Q8_0, Q5_0, Q4_0, Q4_1, Q5_1). Opt-in (`ActivationPrecision.q8`).
/// The three paths (AVX-512 VNNI, AVX2, portable C) give the same bits, and every output depends
/// only on its weight row and activation row.
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

    /// `.q8` multiplies up to `Linear.fusedMaxRows` activation rows (generation) with the row kernels
    /// (`gemm`); more rows (prompts) with the panels (`panel`, `gemmPanel`): the weight rows decoded
    /// once per block into 16-bit integers, 16 rows to a register.
    package static func forRows(_ m: Int) -> Bool { m <= Linear.fusedMaxRows }

    /// Bytes of one quantized activation row of k values.
    package static func rowBytes(_ code: Int32, k: Int) -> Int { Int(prune_q8_row_bytes(code, Int32(k))) }

    /// Quantizes m rows of k values (`ldx` apart) into `xq` (`rowBytes` apart).
    package static func quantize(_ code: Int32, _ x: UnsafePointer<Float>, ldx: Int, rows m: Int, k: Int,
                                 into xq: UnsafeMutableRawPointer, path: Path = Q8Kernels.path) {
        prune_q8_quantize(path.code, code, x, ldx, Int32(m), Int32(k), xq)
    }

    /// `y[i·ldy + r] = W[r, :] · xq[i]` for `rows` stored rows at `w` and m quantized rows.
    package static func gemm(_ code: Int32, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int, k: Int,
                             xq: UnsafeRawPointer, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                             path: Path = Q8Kernels.path) {
        prune_q8_gemm(path.code, code, w, rowBytes, Int32(rows), Int32(k), xq, Int32(m), y, ldy)
    }

    /// Bytes of the panel of `rows` weight rows of k values.
    package static func panelBytes(_ code: Int32, rows: Int, k: Int) -> Int { Int(prune_q8_panel_bytes(code, Int32(rows), Int32(k))) }

    /// Decodes `rows` stored rows at `w` (`rowBytes` apart) into `panel` (`panelBytes`).
    package static func panel(_ code: Int32, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int, k: Int, into panel: UnsafeMutableRawPointer) {
        prune_q8_panel(code, w, rowBytes, Int32(rows), Int32(k), panel)
    }

    /// Bytes of one activation panel row of k values.
    package static func xpanelRowBytes(_ code: Int32, k: Int) -> Int { Int(prune_q8_xpanel_row_bytes(code, Int32(k))) }

    /// Widens m quantized rows (`quantize`) into activation panel rows (`xpanelRowBytes` apart).
    package static func xpanel(_ code: Int32, xq: UnsafeRawPointer, rows m: Int, k: Int, into xp: UnsafeMutableRawPointer) {
        prune_q8_xpanel(code, xq, Int32(m), Int32(k), xp)
    }

    /// `y[i·ldy + r] = W[r, :] · x[i]` from a panel of `rows` weight rows and m activation panel rows.
    package static func gemmPanel(_ code: Int32, panel: UnsafeRawPointer, rows: Int, k: Int, xp: UnsafeRawPointer, m: Int,
                                  y: UnsafeMutablePointer<Float>, ldy: Int, path: Path = Q8Kernels.path) {
        prune_q8_gemm_panel(path.code, code, panel, Int32(rows), Int32(k), xp, Int32(m), y, ldy)
    }

    /// Weight rows per panel for rows of k values: a multiple of 32 whose panel stays within about
    /// 512 KiB (the L2 cache of one core, with the activation rows beside it), 32 to 128. Depends
    /// on the shape only.
    package static func panelRows(_ code: Int32, k: Int) -> Int {
        let perRow = max(1, panelBytes(code, rows: 32, k: k) / 32)
        return max(32, min(128, (512 << 10) / perRow / 32 * 32))
    }
}
