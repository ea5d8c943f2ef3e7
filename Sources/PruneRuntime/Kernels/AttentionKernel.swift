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

    /// The backward of `forward` without a KV cache (every key is one of the batch's rows), weights
    /// of item s·heads + h in `probabilities` ([T × T], as the forward saved them). With P those
    /// weights and dO = `dout`: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale,
    /// dQ = dS·K, dK = dSᵀ·Q. Each work item is one (sequence, key/value head): it walks the query
    /// heads of its group in order and writes only its own rows of dq and its own head of dk and dv
    /// (which it accumulates), so the bits do not depend on the thread count. dk and dv start at 0.
    package static func backward(dout: UnsafePointer<Float>, lddo: Int, q: UnsafePointer<Float>, ldq: Int,
                                 k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int, probabilities: [[Float]],
                                 layout: BatchLayout, heads: Int, kvHeads: Int, headDim hd: Int, scale: Float, softcap: Float? = nil,
                                 dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                                 workspace: Workspace) {
        BLASPin.single()
        let group = heads / kvHeads
        var largest = 0
        for seq in layout.sequences { largest = max(largest, seq.count * seq.count) }
        workspace.reserve(largest)
        for r in 0..<layout.rows {
            for j in 0..<(kvHeads * hd) { dk[r * ldkv + j] = 0; dv[r * ldkv + j] = 0 }
        }
        Parallel.forEach(count: layout.sequences.count * kvHeads, threads: workspace.threads) { item, worker in
            let s = item / kvHeads, g = item % kvHeads
            let seq = layout.sequences[s], t = seq.count
            guard t > 0 else { return }
            let dp = workspace.buffer(worker)
            let r0 = seq.firstRow
            let kg = k + r0 * ldkv + g * hd, vg = v + r0 * ldkv + g * hd
            let dkg = dk + r0 * ldkv + g * hd, dvg = dv + r0 * ldkv + g * hd
            for h in (g * group)..<((g + 1) * group) {
                probabilities[s * heads + h].withUnsafeBufferPointer { pp in
                    let p = pp.baseAddress!
                    let doh = dout + r0 * lddo + h * hd, qh = q + r0 * ldq + h * hd, dqh = dq + r0 * ldq + h * hd
                    // dV += Pᵀ·dO
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(t), blasint(hd), blasint(t), 1,
                                p, blasint(t), doh, blasint(lddo), 1, dvg, blasint(ldkv))
                    // dP = dO·Vᵀ
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(t), blasint(t), blasint(hd), 1,
                                doh, blasint(lddo), vg, blasint(ldkv), 0, dp, blasint(t))
                    // dS = P ⊙ (dP − Σ dP ⊙ P)·scale (row by row; zero above the diagonal, where P is)
                    for i in 0..<t {
                        let pr = p + i * t, dr = dp + i * t
                        var dot = 0.0
                        for j in 0...i { dot += Double(pr[j]) * Double(dr[j]) }
                        let c = Float(dot)
                        for j in 0...i { dr[j] = pr[j] * (dr[j] - c) * scale }
                        for j in (i + 1)..<t { dr[j] = 0 }
                        // Softcapped scores cap·tanh(s/cap): times 1 − tanh², from the score recomputed
                        // (where the probability is 0 the product is 0 already).
                        if let cap = softcap {
                            for j in 0...i where pr[j] != 0 {
                                var sdot: Float = 0
                                for e in 0..<hd { sdot += qh[i * ldq + e] * kg[j * ldkv + e] }
                                let th = tanhf(sdot * scale / cap)
                                dr[j] *= 1 - th * th
                            }
                        }
                    }
                    // dQ = dS·K, dK += dSᵀ·Q
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(t), blasint(hd), blasint(t), 1,
                                dp, blasint(t), kg, blasint(ldkv), 0, dqh, blasint(ldq))
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(t), blasint(hd), blasint(t), 1,
                                dp, blasint(t), qh, blasint(ldq), 1, dkg, blasint(ldkv))
                }
            }
        }
    }
}
