import Foundation
import PruneRuntime

/// Causal multi-head attention with grouped key/value heads, forward with the probabilities saved,
/// and the backward to q, k and v. Rows may pack several sequences (`segments`, their lengths in
/// order): each attends only within itself, and the arithmetic per sequence is the same as alone.
///
/// Both passes walk the same items: (sequence, key/value head) pairs, each covering the query heads
/// of its group in order. An item writes only its own rows of out/dq and its own key/value head of
/// dk/dv, so the items run on up to `threads` threads with the same bits as one.
public struct CausalAttention: Sendable {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    /// The factor of q·k.
    public let scale: Float
    public var threads: Int

    public init(heads: Int, kvHeads: Int, headDim: Int, scale: Float, threads: Int = 1) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.scale = scale
        self.threads = threads
    }

    /// Where each segment starts: its first row and the offset of its probabilities.
    static func layout(_ segments: [Int], heads: Int) -> (rows: [Int], probs: [Int], total: Int) {
        var rows: [Int] = [], probs: [Int] = []
        var r = 0, p = 0
        for t in segments {
            rows.append(r)
            probs.append(p)
            r += t
            p += heads * t * t
        }
        return (rows, probs, p)
    }

    /// One query row of one head: where its q row, its probability row and its sequence start.
    struct QueryRow {
        /// Length of the sequence, the row's position in it (it attends to 0…i).
        var t: Int, i: Int
        /// First row of the sequence, the key/value head, offsets of the q row and of the probability row.
        var r0: Int, g: Int, qo: Int, pb: Int
    }

    /// Calls `body` for every query row of every head, item by item (sequence, kv head), the items
    /// on up to `threads` threads; `body` gets the row and the calling worker's index.
    func forEachQueryRow(_ segments: [Int], _ body: (QueryRow, Int) -> Void) {
        let qw = heads * headDim, group = heads / kvHeads
        let (starts, pstarts, _) = Self.layout(segments, heads: heads)
        Parallel.forEach(count: segments.count * kvHeads, threads: threads) { item, worker in
            let s = item / kvHeads, g = item % kvHeads
            let t = segments[s], r0 = starts[s], p0 = pstarts[s]
            for h in (g * group)..<((g + 1) * group) {
                for i in 0..<t {
                    body(QueryRow(t: t, i: i, r0: r0, g: g, qo: (r0 + i) * qw + h * headDim, pb: p0 + (h * t + i) * t), worker)
                }
            }
        }
    }

    /// a · b over n floats, in eight lanes summed in a fixed order.
    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var e = 0
        while e + 8 <= n {
            acc += UnsafeRawPointer(a + e).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + e).loadUnaligned(as: SIMD8<Float>.self)
            e += 8
        }
        var s = acc.sum()
        while e < n { s += a[e] * b[e]; e += 1 }
        return s
    }

    /// y += a · x over n floats (each element as the scalar loop computes it).
    @inline(__always) static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let av = SIMD8<Float>(repeating: a)
        var e = 0
        while e + 8 <= n {
            let r = UnsafeRawPointer(y + e).loadUnaligned(as: SIMD8<Float>.self) + av * UnsafeRawPointer(x + e).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + e).storeBytes(of: r, as: SIMD8<Float>.self)
            e += 8
        }
        while e < n { y[e] += a * x[e]; e += 1 }
    }

    /// out [t, heads·hd] and the probabilities [heads, t, t] (row i: weights of positions 0…i).
    public func forward(q: [Float], k: [Float], v: [Float], rows t: Int) -> (out: [Float], probs: [Float]) {
        forward(q: q, k: k, v: v, segments: [t])
    }

    /// Packed sequences: out [Σt, heads·hd] and per segment its probabilities [heads, t, t], in order.
    public func forward(q: [Float], k: [Float], v: [Float], segments: [Int]) -> (out: [Float], probs: [Float]) {
        let kw = kvHeads * headDim, hd = headDim, scale = scale
        let rows = segments.reduce(0, +), longest = segments.max() ?? 0
        var out = [Float](repeating: 0, count: rows * heads * headDim)
        var probs = [Float](repeating: 0, count: Self.layout(segments, heads: heads).total)
        var rowBuffers = [Float](repeating: 0, count: max(1, threads) * longest)
        q.withUnsafeBufferPointer { q in k.withUnsafeBufferPointer { k in v.withUnsafeBufferPointer { v in
        out.withUnsafeMutableBufferPointer { out in probs.withUnsafeMutableBufferPointer { probs in
        rowBuffers.withUnsafeMutableBufferPointer { buffers in
            let q = q.baseAddress!, k = k.baseAddress!, v = v.baseAddress!
            let out = out.baseAddress!, probs = probs.baseAddress!, buffers = buffers.baseAddress!
            forEachQueryRow(segments) { x, worker in
                let row = buffers + worker * longest
                var mx = -Float.infinity
                for j in 0...x.i {
                    let s = Self.dot(q + x.qo, k + (x.r0 + j) * kw + x.g * hd, hd) * scale
                    row[j] = s
                    mx = max(mx, s)
                }
                var z: Float = 0
                for j in 0...x.i { row[j] = expf(row[j] - mx); z += row[j] }
                for j in 0...x.i {
                    let p = row[j] / z
                    probs[x.pb + j] = p
                    let vo = (x.r0 + j) * kw + x.g * hd
                    Self.axpy(p, v + vo, out + x.qo, hd)
                }
            }
        }}}}}}
        return (out, probs)
    }

    /// dq, dk, dv from dout.
    public func backward(dout: [Float], q: [Float], k: [Float], v: [Float], probs: [Float], rows t: Int)
        -> (dq: [Float], dk: [Float], dv: [Float]) {
        backward(dout: dout, q: q, k: k, v: v, probs: probs, segments: [t])
    }

    /// dq, dk, dv from dout on packed sequences.
    public func backward(dout: [Float], q: [Float], k: [Float], v: [Float], probs: [Float], segments: [Int])
        -> (dq: [Float], dk: [Float], dv: [Float]) {
        let kw = kvHeads * headDim, hd = headDim, scale = scale
        let rows = segments.reduce(0, +), longest = segments.max() ?? 0
        var dq = [Float](repeating: 0, count: rows * heads * headDim)
        var dk = [Float](repeating: 0, count: rows * kw)
        var dv = [Float](repeating: 0, count: rows * kw)
        var dpBuffers = [Float](repeating: 0, count: max(1, threads) * longest)
        dout.withUnsafeBufferPointer { dout in q.withUnsafeBufferPointer { q in k.withUnsafeBufferPointer { k in
        v.withUnsafeBufferPointer { v in probs.withUnsafeBufferPointer { probs in
        dq.withUnsafeMutableBufferPointer { dq in dk.withUnsafeMutableBufferPointer { dk in dv.withUnsafeMutableBufferPointer { dv in
        dpBuffers.withUnsafeMutableBufferPointer { buffers in
            let dout = dout.baseAddress!, q = q.baseAddress!, k = k.baseAddress!, v = v.baseAddress!, probs = probs.baseAddress!
            let dq = dq.baseAddress!, dk = dk.baseAddress!, dv = dv.baseAddress!, buffers = buffers.baseAddress!
            forEachQueryRow(segments) { x, worker in
                let dp = buffers + worker * longest
                var dot: Float = 0
                for j in 0...x.i {
                    let s = Self.dot(dout + x.qo, v + (x.r0 + j) * kw + x.g * hd, hd)
                    dp[j] = s
                    dot += s * probs[x.pb + j]
                }
                for j in 0...x.i {
                    let p = probs[x.pb + j]
                    let ko = (x.r0 + j) * kw + x.g * hd
                    Self.axpy(p, dout + x.qo, dv + ko, hd)
                    let ds = p * (dp[j] - dot) * scale
                    Self.axpy(ds, k + ko, dq + x.qo, hd)
                    Self.axpy(ds, q + x.qo, dk + ko, hd)
                }
            }
        }}}}}}}}}
        return (dq, dk, dv)
    }
}
