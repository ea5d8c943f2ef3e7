import CBLAS
import PruneRuntime

/// A frozen linear layer y = x Wᵀ + b with W [out, in] in f32 (row-major), for the fact engine's
/// forward with saved activations and its backward (activation gradients only).
///
/// The products are split into fixed blocks of `blockSize` output (forward) or input (backward)
/// features, each one single-threaded sgemm, run on up to `threads` threads: the blocks depend on
/// the shapes only, so the bits of the result never depend on the thread count.
public struct DenseLinear: Sendable {
    public let outputs: Int
    public let inputs: Int
    /// outputs × inputs, row-major.
    public var weight: [Float]
    public var bias: [Float]?

    static let blockSize = 128

    public init(outputs: Int, inputs: Int, weight: [Float], bias: [Float]? = nil) {
        precondition(weight.count == outputs * inputs && (bias == nil || bias!.count == outputs))
        self.outputs = outputs
        self.inputs = inputs
        self.weight = weight
        self.bias = bias
    }

    /// y [t, out] = x [t, in] Wᵀ + b.
    public func forward(_ x: [Float], rows t: Int, threads: Int = 1) -> [Float] {
        var y = [Float](repeating: 0, count: t * outputs)
        guard t > 0 else { return y }
        if let b = bias { for r in 0..<t { for j in 0..<outputs { y[r * outputs + j] = b[j] } } }
        let beta: Float = bias == nil ? 0 : 1
        let n = outputs, k = inputs, size = Self.blockSize
        BLASPin.single()
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    let xb = xp.baseAddress!, wb = wp.baseAddress!, yb = yp.baseAddress!
                    Parallel.forEach(count: (n + size - 1) / size, threads: threads) { b, _ in
                        let r0 = b * size, nb = min(n, r0 + size) - r0
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(nb), Int32(k),
                                    1, xb, Int32(k), wb + r0 * k, Int32(k), beta, yb + r0, Int32(n))
                    }
                }
            }
        }
        return y
    }

    /// dx [t, in] = dy [t, out] W (accumulated into `dx` when `accumulate`).
    public func backward(_ dy: [Float], rows t: Int, into dx: inout [Float], accumulate: Bool, threads: Int = 1) {
        precondition(dx.count == t * inputs)
        guard t > 0 else { return }
        let n = outputs, k = inputs, size = Self.blockSize
        BLASPin.single()
        dy.withUnsafeBufferPointer { dp in
            weight.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { xp in
                    let db = dp.baseAddress!, wb = wp.baseAddress!, xb = xp.baseAddress!
                    Parallel.forEach(count: (k + size - 1) / size, threads: threads) { b, _ in
                        let c0 = b * size, nc = min(k, c0 + size) - c0
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(nc), Int32(n),
                                    1, db, Int32(n), wb + c0, Int32(k), accumulate ? 1 : 0, xb + c0, Int32(k))
                    }
                }
            }
        }
    }

    public func backward(_ dy: [Float], rows t: Int, threads: Int = 1) -> [Float] {
        var dx = [Float](repeating: 0, count: t * inputs)
        backward(dy, rows: t, into: &dx, accumulate: false, threads: threads)
        return dx
    }
}
