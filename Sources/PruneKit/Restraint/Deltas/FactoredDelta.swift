import Foundation
import PruneFormats

/// A factored delta D = u · vᵀ in f32 (u is rows × rank, v is cols × rank, both row-major),
/// materialised onto f32 weights with a FIXED summation order, so that results are bit-identical
/// whatever the thread count or BLAS kernel:
///
///     d[i,j]  = ((0 + u[i,0]·v[j,0]) + u[i,1]·v[j,1]) + … + u[i,k-1]·v[j,k-1]   in float64, k ascending
///     add:      w[i,j] ← Float(Double(w[i,j]) + d[i,j])     (one rounding)
///     subtract: w[i,j] ← Float(Double(w[i,j]) − d[i,j])
///     dense:    d[i,j] rounded once to Float
///
/// Each product of two f32 values is exact in float64, so fused or unfused multiply–add give the
/// same bits. Rows are split across threads; every element is computed by one thread in the order
/// above. A rank-0 delta leaves weights untouched.
public struct FactoredDelta: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public let rank: Int
    /// rows × rank, row-major.
    public let u: [Float]
    /// cols × rank, row-major.
    public let v: [Float]

    public init(rows: Int, cols: Int, rank: Int, u: [Float], v: [Float], tensor: String = "<matrix>") throws {
        guard rows > 0, cols > 0, rank >= 0 else {
            throw RestraintError.invalidDimensions(tensor: tensor, rows: rows, cols: cols)
        }
        let (nu, o1) = rows.multipliedReportingOverflow(by: rank)
        let (nv, o2) = cols.multipliedReportingOverflow(by: rank)
        guard !o1, u.count == nu else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "factor u (rows x rank)", expected: o1 ? -1 : nu, actual: u.count)
        }
        guard !o2, v.count == nv else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "factor v (cols x rank)", expected: o2 ? -1 : nv, actual: v.count)
        }
        if let i = u.firstIndex(where: { !$0.isFinite }) { throw RestraintError.nonFinite(tensor: tensor, what: "factor u", index: i) }
        if let i = v.firstIndex(where: { !$0.isFinite }) { throw RestraintError.nonFinite(tensor: tensor, what: "factor v", index: i) }
        self.init(unchecked: rows, cols: cols, rank: rank, u: u, v: v)
    }

    init(unchecked rows: Int, cols: Int, rank: Int, u: [Float], v: [Float]) {
        self.rows = rows
        self.cols = cols
        self.rank = rank
        self.u = u
        self.v = v
    }

    /// The delta of the transposed weight.
    public func transposed() -> FactoredDelta { FactoredDelta(unchecked: cols, cols: rows, rank: rank, u: v, v: u) }

    /// w ← fl(w + D) element-wise (see the type documentation for the exact order).
    public func add(to weights: inout [Float], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    tensor: String = "<matrix>") throws {
        try check(weights.count, tensor: tensor)
        if rank == 0 { return }
        weights.withUnsafeMutableBufferPointer { run(.add, $0, threads: threads) }
    }

    /// w ← fl(w − D) element-wise.
    public func subtract(from weights: inout [Float], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                         tensor: String = "<matrix>") throws {
        try check(weights.count, tensor: tensor)
        if rank == 0 { return }
        weights.withUnsafeMutableBufferPointer { run(.subtract, $0, threads: threads) }
    }

    /// D rounded once to f32 (rows × cols, row-major).
    public func dense(threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        if rank == 0 { return out }
        out.withUnsafeMutableBufferPointer { run(.set, $0, threads: threads) }
        return out
    }

    private func check(_ count: Int, tensor: String) throws {
        guard count == rows * cols else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "weights", expected: rows * cols, actual: count)
        }
    }

    private enum Mode { case add, subtract, set }

    private func run(_ mode: Mode, _ out: UnsafeMutableBufferPointer<Float>, threads: Int) {
        let k = rank, n = cols
        // vᵀ (rank × cols) so the innermost loop runs over contiguous columns.
        var vt = [Float](repeating: 0, count: k * n)
        for j in 0..<n { for kk in 0..<k { vt[kk * n + j] = v[j * k + kk] } }
        let tile = max(64, min(n, (1 << 18) / max(1, k)))
        let chunkRows = 16
        let chunks = (rows + chunkRows - 1) / chunkRows
        let workers = max(1, min(threads, chunks))
        let uBase = u
        vt.withUnsafeBufferPointer { pvRaw in
            uBase.withUnsafeBufferPointer { puRaw in
                let shared = KernelPointers(pu: puRaw, pv: pvRaw, out: out)
                let work: @Sendable (Int) -> Void = { worker in
                    let pu = shared.pu, pv = shared.pv, out = shared.out
                    let acc = UnsafeMutablePointer<Double>.allocate(capacity: 4 * tile)
                    defer { acc.deallocate() }
                    var chunk = worker
                    while chunk < chunks {
                        let r0 = chunk * chunkRows, r1 = min(rows, r0 + chunkRows)
                        var j0 = 0
                        while j0 < n {
                            let w = min(tile, n - j0)
                            var i = r0
                            while i < r1 {
                                let nr = min(4, r1 - i)
                                for j in 0..<(4 * tile) { acc[j] = 0 }
                                Self.accumulate(pu: pu, pv: pv, k: k, n: n, i: i, nr: nr, j0: j0, w: w, into: acc, stride: tile)
                                for r in 0..<nr {
                                    let dst = out.baseAddress! + (i + r) * n + j0
                                    let a = acc + r * tile
                                    switch mode {
                                    case .add: for j in 0..<w { dst[j] = Float(Double(dst[j]) + a[j]) }
                                    case .subtract: for j in 0..<w { dst[j] = Float(Double(dst[j]) - a[j]) }
                                    case .set: for j in 0..<w { dst[j] = Float(a[j]) }
                                    }
                                }
                                i += nr
                            }
                            j0 += w
                        }
                        chunk += workers
                    }
                }
                if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
            }
        }
    }

    /// Pointers shared by the row workers; each worker writes only its own rows.
    private struct KernelPointers: @unchecked Sendable {
        let pu: UnsafeBufferPointer<Float>
        let pv: UnsafeBufferPointer<Float>
        let out: UnsafeMutableBufferPointer<Float>
    }

    /// acc[r·stride + j] += Σ_kk u[i+r, kk] · vᵀ[kk, j0 + j] for r < nr (nr ≤ 4) and j < w, kk ascending
    /// from 0 (callers zero `acc` first): the one kernel of `add`, `subtract`, `dense` and `forEachChunk`,
    /// so that all of them sum in the same order.
    @inline(__always)
    static func accumulate(pu: UnsafeBufferPointer<Float>, pv: UnsafeBufferPointer<Float>, k: Int, n: Int,
                           i: Int, nr: Int, j0: Int, w: Int, into acc: UnsafeMutablePointer<Double>, stride: Int) {
        let ub = pu.baseAddress!, vb = pv.baseAddress!
        if nr == 4 {
            let a0 = acc, a1 = a0 + stride, a2 = a1 + stride, a3 = a2 + stride
            for kk in 0..<k {
                let u0 = Double(ub[i * k + kk]), u1 = Double(ub[(i + 1) * k + kk])
                let u2 = Double(ub[(i + 2) * k + kk]), u3 = Double(ub[(i + 3) * k + kk])
                let row = vb + kk * n + j0
                for j in 0..<w {
                    let x = Double(row[j])
                    a0[j] += u0 * x
                    a1[j] += u1 * x
                    a2[j] += u2 * x
                    a3[j] += u3 * x
                }
            }
        } else {
            for r in 0..<nr {
                let a = acc + r * stride
                for kk in 0..<k {
                    let ur = Double(ub[(i + r) * k + kk])
                    let row = vb + kk * n + j0
                    for j in 0..<w { a[j] += ur * Double(row[j]) }
                }
            }
        }
    }
}
