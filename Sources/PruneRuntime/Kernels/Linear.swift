import CBLAS

/// y = x·Wᵀ + b over a packed batch of rows, and its transpose for backward passes.
///
/// Work is split into fixed blocks of `blockRows` output features (independent of the thread
/// count); each block is one single-threaded OpenBLAS call (sgemm for several rows, sgemv for one),
/// on the mapped f32 rows or on the block decoded into the worker's scratch. So the bits of the
/// result never depend on the number of threads.
package enum Linear {
    package static let blockRows = 64
    /// Up to this many activation rows, a matrix the fused kernels read is multiplied as stored
    /// (`StoredKernels.gemv`); more rows decode tiles and call sgemm. The fused kernels decode once
    /// per pair of rows; measured here (one thread, Q4_1 1536×576, Q8_0 and Q4_K 2048×2048) the
    /// tiles and sgemm win from 8 rows on (Q4_1, Q4_K), 12 (Q8_0).
    package static let fusedMaxRows = 6
    /// Bytes of f32 in one decoded tile of the many-rows path: about half the L2 cache of one core.
    package static let tileBytes = 512 << 10

    /// Output features per work item. Few rows (generation) are memory-bound: blocks of 64 keep
    /// the threads balanced and the decode scratch small. Many rows (prompts): blocks of about 256
    /// (at least two per matrix of 128 rows or more) so that sgemm repacks the input less often.
    /// Depends on the shapes only, never on the thread count.
    static func forwardBlockRows(rows m: Int, features n: Int) -> Int {
        guard m >= 32 else { return blockRows }
        let blocks = max(n >= 128 ? 2 : 1, (n + 128) / 256)
        let size = (n + blocks - 1) / blocks
        return (size + 15) / 16 * 16
    }

    /// `out[m × W.rows] = x[m × W.cols] · Wᵀ (+ bias)`, output features in the logical order.
    package static func forward(_ x: UnsafePointer<Float>, rows m: Int, weight w: WeightMatrix, bias: [Float]?,
                                into out: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let n = w.rows, k = w.cols
        guard m > 0, n > 0 else { return }
        if workspace.activations == .q8, let stored = w.fusedStorage, Q8Kernels.supports(stored.code, k: k) {
            forwardQ8(x, rows: m, stored: stored, features: n, k: k, into: out, workspace: workspace)
            finish(out, rows: m, weight: w, bias: bias)
            return
        }
        if m <= fusedMaxRows, let stored = w.fusedStorage {
            // Few rows: the fused kernels read the stored blocks once per pair of rows, no f32 copy.
            let blocks = (n + blockRows - 1) / blockRows
            Parallel.forEach(count: blocks, threads: workspace.threads) { b, _ in
                let r0 = b * blockRows, r1 = min(n, r0 + blockRows)
                StoredKernels.gemv(stored.code, stored.base + r0 * stored.rowBytes, rowBytes: stored.rowBytes, rows: r1 - r0,
                                   k: k, x: x, ldx: k, m: m, y: out + r0, ldy: n)
            }
            finish(out, rows: m, weight: w, bias: bias)
            return
        }
        BLASPin.single()
        var size = forwardBlockRows(rows: m, features: n)
        if w.needsDecoding {
            // Decoded tiles stay within `tileBytes` (the L2 cache), at least 16 rows.
            size = min(size, max(16, tileBytes / (4 * max(1, k)) / 16 * 16))
        }
        let blocks = (n + size - 1) / size
        workspace.reserve(WeightMatrix.scratchFloats(rows: size, cols: k))
        Parallel.forEach(count: blocks, threads: workspace.threads) { b, worker in
            let r0 = b * size, r1 = min(n, r0 + size), nb = r1 - r0
            let (p, ld, transposed) = w.rowBlock(r0, r1, scratch: workspace.buffer(worker))
            if m == 1 {
                if transposed {
                    cblas_sgemv(CblasRowMajor, CblasTrans, blasint(k), blasint(nb), 1, p, blasint(ld), x, 1, 0, out + r0, 1)
                } else {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(nb), blasint(k), 1, p, blasint(ld), x, 1, 0, out + r0, 1)
                }
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasNoTrans : CblasTrans,
                            blasint(m), blasint(nb), blasint(k), 1, x, blasint(k), p, blasint(ld), 0, out + r0, blasint(n))
            }
        }
        finish(out, rows: m, weight: w, bias: bias)
    }

    /// `.q8` activations: the rows quantized once (`Q8Kernels`, in parallel chunks of 16 rows).
    /// Few rows (`Q8Kernels.forRows`): fixed blocks of `blockRows` output features multiplied as stored
    /// (small items keep the two threads balanced; each item reads the quantized rows, a small cost
    /// next to its products). Many rows: the rows widened into activation panel rows, then fixed blocks
    /// of `Q8Kernels.panelRows` output features, each decoded once into the worker's panel and
    /// multiplied with every row. Each output depends only on its weight row and activation row.
    private static func forwardQ8(_ x: UnsafePointer<Float>, rows m: Int, stored: (base: UnsafeRawPointer, code: Int32, rowBytes: Int),
                                  features n: Int, k: Int, into out: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let code = stored.code
        let few = Q8Kernels.forRows(m)
        let xs = Q8Kernels.rowBytes(code, k: k), xr = few ? 0 : Q8Kernels.xpanelRowBytes(code, k: k)
        let xq = UnsafeMutableRawPointer.allocate(byteCount: m * xs, alignment: 64)
        defer { xq.deallocate() }
        let xp = UnsafeMutableRawPointer.allocate(byteCount: max(1, m * xr), alignment: 64)
        defer { xp.deallocate() }
        let chunk = 16
        Parallel.forEach(count: (m + chunk - 1) / chunk, threads: workspace.threads) { c, _ in
            let i0 = c * chunk, i1 = min(m, i0 + chunk)
            Q8Kernels.quantize(code, x + i0 * k, ldx: k, rows: i1 - i0, k: k, into: xq + i0 * xs)
            if !few { Q8Kernels.xpanel(code, xq: xq + i0 * xs, rows: i1 - i0, k: k, into: xp + i0 * xr) }
        }
        if few {
            let size = blockRows
            Parallel.forEach(count: (n + size - 1) / size, threads: workspace.threads) { b, _ in
                let r0 = b * size, r1 = min(n, r0 + size)
                Q8Kernels.gemm(code, stored.base + r0 * stored.rowBytes, rowBytes: stored.rowBytes, rows: r1 - r0, k: k,
                               xq: xq, m: m, y: out + r0, ldy: n)
            }
            return
        }
        let size = Q8Kernels.panelRows(code, k: k)
        workspace.reserve((Q8Kernels.panelBytes(code, rows: size, k: k) + 3) / 4)
        Parallel.forEach(count: (n + size - 1) / size, threads: workspace.threads) { b, worker in
            let r0 = b * size, r1 = min(n, r0 + size)
            let panel = UnsafeMutableRawPointer(workspace.buffer(worker))
            Q8Kernels.panel(code, stored.base + r0 * stored.rowBytes, rowBytes: stored.rowBytes, rows: r1 - r0, k: k, into: panel)
            Q8Kernels.gemmPanel(code, panel: panel, rows: r1 - r0, k: k, xp: xp, m: m, y: out + r0, ldy: n)
        }
    }

    /// Output features back into the logical order, then the bias.
    private static func finish(_ out: UnsafeMutablePointer<Float>, rows m: Int, weight w: WeightMatrix, bias: [Float]?) {
        let n = w.rows
        if let map = w.logicalRow {
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { tmp.deallocate() }
            for i in 0..<m {
                let row = out + i * n
                tmp.update(from: row, count: n)
                for s in 0..<n { row[map[s]] = tmp[s] }
            }
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for i in 0..<m {
                    let row = out + i * n
                    for j in 0..<n { row[j] += b[j] }
                }
            }
        }
    }

    /// Array convenience: `x` is m × W.cols; returns m × W.rows.
    package static func forward(_ x: [Float], rows m: Int, weight w: WeightMatrix, bias: [Float]?, workspace: Workspace) -> [Float] {
        var out = [Float](repeating: 0, count: m * w.rows)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                forward(xp.baseAddress!, rows: m, weight: w, bias: bias, into: op.baseAddress!, workspace: workspace)
            }
        }
        return out
    }

    /// `dx[m × W.cols] = dy[m × W.rows] · W`: the gradient of `x·Wᵀ` with respect to x (weights
    /// frozen). f32 matrices: fixed blocks of input features (`forwardBlockRows`). A matrix that is
    /// not f32 in memory is never decoded whole: blocks of stored rows (`tileBytes` of f32) are
    /// decoded one after the other and added into dx in that fixed order, each product split over
    /// fixed blocks of input features.
    package static func backwardInput(_ dy: UnsafePointer<Float>, rows m: Int, weight w: WeightMatrix,
                                      into dx: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let n = w.rows, k = w.cols
        guard m > 0, k > 0 else { return }
        BLASPin.single()
        // dy in the stored row order.
        var stored: UnsafeMutablePointer<Float>?
        if let map = w.logicalRow {
            let s = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            for i in 0..<m { for r in 0..<n { s[i * n + r] = dy[i * n + map[r]] } }
            stored = s
        }
        defer { stored?.deallocate() }
        let g = UnsafePointer(stored) ?? dy
        // Input features per item: as the forward's output features (about 256 for many rows, so
        // that sgemm repacks dy less often); the shapes alone fix them.
        let size = forwardBlockRows(rows: m, features: k)
        let blocks = (k + size - 1) / size
        let full: (UnsafePointer<Float>, transposed: Bool)
        switch w.storage {
        case .f32(let p): full = (p, false)
        case .owned(let p): full = (UnsafePointer(p), false)
        case .f32Transposed(let p): full = (p, true)
        case .encoded, .encodedTransposed:
            backwardInputByRowBlocks(g, rows: m, weight: w, into: dx, featureBlock: size, workspace: workspace)
            return
        }
        Parallel.forEach(count: blocks, threads: workspace.threads) { b, _ in
            let c0 = b * size, c1 = min(k, c0 + size), nc = c1 - c0
            if full.transposed {
                // W[:, c0..<c1] = stored[c0..<c1, :]ᵀ, stored is cols × rows.
                let p = full.0 + c0 * n
                if m == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(nc), blasint(n), 1, p, blasint(n), g, 1, 0, dx + c0, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(nc), blasint(n), 1, g, blasint(n),
                                p, blasint(n), 0, dx + c0, blasint(k))
                }
            } else {
                let p = full.0 + c0
                if m == 1 {
                    cblas_sgemv(CblasRowMajor, CblasTrans, blasint(n), blasint(nc), 1, p, blasint(k), g, 1, 0, dx + c0, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(nc), blasint(n), 1, g, blasint(n),
                                p, blasint(k), 0, dx + c0, blasint(k))
                }
            }
        }
    }

    /// `dx = g · W` for a matrix kept as stored: stored rows in blocks of `tileBytes`, in order; each
    /// block is decoded (split over fixed pieces of 16 rows) and added into dx (split over fixed
    /// blocks of `featureBlock` input features). The summation order depends on the shapes only.
    private static func backwardInputByRowBlocks(_ g: UnsafePointer<Float>, rows m: Int, weight w: WeightMatrix,
                                                 into dx: UnsafeMutablePointer<Float>, featureBlock size: Int,
                                                 workspace: Workspace) {
        let n = w.rows, k = w.cols
        let tile = max(16, tileBytes / (4 * k) / 16 * 16)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile * k + tile)
        defer { scratch.deallocate() }
        let blocks = (k + size - 1) / size
        for r0 in stride(from: 0, to: n, by: tile) {
            let r1 = min(n, r0 + tile), nr = r1 - r0
            if case .encodedTransposed = w.storage {
                w.decodeRows(r0, r1, into: scratch, spare: scratch + tile * k)
            } else {
                Parallel.forEach(count: (nr + 15) / 16, threads: workspace.threads) { p, _ in
                    let a = r0 + 16 * p, b = min(r1, a + 16)
                    w.decodeRows(a, b, into: scratch + (a - r0) * k, spare: scratch + tile * k + (a - r0))
                }
            }
            let beta: Float = r0 == 0 ? 0 : 1
            Parallel.forEach(count: blocks, threads: workspace.threads) { b, _ in
                let c0 = b * size, c1 = min(k, c0 + size), nc = c1 - c0
                if m == 1 {
                    cblas_sgemv(CblasRowMajor, CblasTrans, blasint(nr), blasint(nc), 1, scratch + c0, blasint(k), g + r0, 1,
                                beta, dx + c0, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(nc), blasint(nr), 1, g + r0,
                                blasint(n), scratch + c0, blasint(k), beta, dx + c0, blasint(k))
                }
            }
        }
    }
}

/// OpenBLAS runs single-threaded inside every runtime kernel: parallelism comes from the runtime's
/// own fixed work items, so results do not depend on OpenBLAS's thread partitioning. The count is
/// process-global; the runtime leaves it at 1 (as prune's restraint engine does).
package enum BLASPin {
    package static func single() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }
}
