import CBLAS
import Foundation

/// Causal scaled dot-product attention over a packed batch: each (sequence, head) pair is one
/// work item (single-threaded sgemm/sgemv for the scores and for the weighted values), so the
/// result does not depend on the thread count. Query row t of a sequence with `past` cached
/// positions sees keys 0 ... past + t.
package enum AttentionKernel {
    /// The keys and values one sequence attends over: `count` rows, `ld` floats apart.
    package struct KeyValues {
        package let keys: UnsafePointer<Float>
        package let values: UnsafePointer<Float>
        package let ld: Int
        package let count: Int
    }

    /// `out` (rows × ldo, heads·headDim from column 0) = softmax(scale·q·kᵀ + causal mask)·v.
    /// `window`: a query at position i sees keys i − window < j ≤ i only. `softcap`: the scaled
    /// scores become cap·tanh(score/cap) first (Gemma 2).
    /// When `probabilities` is given, item s·heads + h receives its [T × count] weights.
    package static func forward(q: UnsafePointer<Float>, ldq: Int, layout: BatchLayout, kv: [KeyValues],
                                heads: Int, kvHeads: Int, headDim hd: Int, scale: Float, window: Int? = nil, softcap: Float? = nil,
                                out: UnsafeMutablePointer<Float>, ldo: Int,
                                probabilities: UnsafeMutableSendableArray<[Float]>?, workspace: Workspace) {
        BLASPin.single()
        let group = heads / kvHeads
        var largest = 0
        for (s, seq) in layout.sequences.enumerated() { largest = max(largest, seq.count * kv[s].count) }
        workspace.reserve(largest)
        Parallel.forEach(count: layout.sequences.count * heads, threads: workspace.threads) { item, worker in
            let s = item / heads, h = item % heads, g = h / group
            let seq = layout.sequences[s]
            let t = seq.count, n = kv[s].count
            guard t > 0 else { return }
            let scores = workspace.buffer(worker)
            let qh = q + seq.firstRow * ldq + h * hd
            let kh = kv[s].keys + g * hd, vh = kv[s].values + g * hd
            let ld = kv[s].ld
            if t == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(n), blasint(hd), scale, kh, blasint(ld), qh, 1, 0, scores, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(t), blasint(n), blasint(hd), scale,
                            qh, blasint(ldq), kh, blasint(ld), 0, scores, blasint(n))
            }
            for i in 0..<t {
                let row = scores + i * n
                let limit = min(n, seq.past + i + 1)
                let first = window.map { max(0, seq.past + i + 1 - $0) } ?? 0
                if let cap = softcap { for j in first..<limit { row[j] = cap * tanhf(row[j] / cap) } }
                var m = -Float.infinity
                for j in first..<limit where row[j] > m { m = row[j] }
                var sum = 0.0
                for j in first..<limit { let e = expf(row[j] - m); row[j] = e; sum += Double(e) }
                let inv = Float(1 / sum)
                for j in 0..<first { row[j] = 0 }
                for j in first..<limit { row[j] *= inv }
                for j in limit..<n { row[j] = 0 }
            }
            if let probabilities { probabilities[item] = Array(UnsafeBufferPointer(start: scores, count: t * n)) }
            let oh = out + seq.firstRow * ldo + h * hd
            if t == 1 {
                cblas_sgemv(CblasRowMajor, CblasTrans, blasint(n), blasint(hd), 1, vh, blasint(ld), scores, 1, 0, oh, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(t), blasint(hd), blasint(n), 1,
                            scores, blasint(n), vh, blasint(ld), 0, oh, blasint(ldo))
            }
        }
    }
}
