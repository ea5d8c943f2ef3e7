import Foundation

extension FactoredDelta {
    /// Hands D to `body` one chunk of `chunkRows` whole rows at a time: `body(chunk, rows, d)` gets
    /// d[(i − rows.lowerBound)·cols + j] = D[i, j] for i in `rows`, in float64, computed in exactly
    /// the order `add(to:)` and `subtract(from:)` use (so w ± d rounded to f32 gives their bits).
    /// Chunks are spread over `threads` workers; `body` must touch only memory of its own chunk.
    /// A rank-0 delta gives d = 0 everywhere (callers that must mirror `add`'s early return handle
    /// rank 0 themselves). Returns the CPU seconds spent computing d (summed over the workers).
    @discardableResult
    package func forEachChunk(chunkRows: Int, threads: Int,
                              _ body: @Sendable (_ chunk: Int, _ rows: Range<Int>, _ d: UnsafeMutableBufferPointer<Double>) -> Void) -> Double {
        let k = rank, n = cols
        let per = max(1, chunkRows)
        let chunks = (rows + per - 1) / per
        var vt = [Float](repeating: 0, count: k * n)
        for j in 0..<n { for kk in 0..<k { vt[kk * n + j] = v[j * k + kk] } }
        let workers = max(1, min(threads, chunks))
        let totalRows = rows
        let fillNanos = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: workers)
        fillNanos.initialize(repeating: 0)
        defer { fillNanos.deallocate() }
        let nanos = NanosPointer(p: fillNanos)
        withoutActuallyEscaping(body) { body in
            vt.withUnsafeBufferPointer { pv in
                u.withUnsafeBufferPointer { pu in
                    let shared = ChunkPointers(pu: pu, pv: pv, body: body)
                    let work: @Sendable (Int) -> Void = { worker in
                        let d = UnsafeMutableBufferPointer<Double>.allocate(capacity: per * n)
                        defer { d.deallocate() }
                        var chunk = worker
                        while chunk < chunks {
                            let r0 = chunk * per, r1 = min(totalRows, r0 + per)
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            Self.fill(d, pu: shared.pu, pv: shared.pv, k: k, n: n, r0: r0, r1: r1)
                            nanos.p[worker] &+= DispatchTime.now().uptimeNanoseconds &- t0
                            shared.body(chunk, r0..<r1, UnsafeMutableBufferPointer(rebasing: d[0..<((r1 - r0) * n)]))
                            chunk += workers
                        }
                    }
                    if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
                }
            }
        }
        return Double(fillNanos.reduce(0, &+)) / 1e9
    }

    private struct NanosPointer: @unchecked Sendable {
        let p: UnsafeMutableBufferPointer<UInt64>
    }

    private struct ChunkPointers: @unchecked Sendable {
        let pu: UnsafeBufferPointer<Float>
        let pv: UnsafeBufferPointer<Float>
        let body: (Int, Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void
    }

    /// d[i − r0, j] = Σ_kk u[i, kk] · vᵀ[kk, j], kk ascending from 0 (the kernel's order, `accumulate`).
    private static func fill(_ d: UnsafeMutableBufferPointer<Double>, pu: UnsafeBufferPointer<Float>,
                             pv: UnsafeBufferPointer<Float>, k: Int, n: Int, r0: Int, r1: Int) {
        let base = d.baseAddress!
        for x in 0..<((r1 - r0) * n) { base[x] = 0 }
        guard k > 0 else { return }
        let tile = max(64, min(n, (1 << 18) / max(1, k)))
        var j0 = 0
        while j0 < n {
            let w = min(tile, n - j0)
            var i = r0
            while i < r1 {
                let nr = min(4, r1 - i)
                accumulate(pu: pu, pv: pv, k: k, n: n, i: i, nr: nr, j0: j0, w: w, into: base + (i - r0) * n + j0, stride: n)
                i += nr
            }
            j0 += w
        }
    }
}
