import CBLAS

/// A frozen linear layer y = x Wᵀ + b with W [out, in] in f32 (row-major), for the fact engine's
/// forward with saved activations and its backward (activation gradients only).
public struct DenseLinear: Sendable {
    public let outputs: Int
    public let inputs: Int
    /// outputs × inputs, row-major.
    public var weight: [Float]
    public var bias: [Float]?

    public init(outputs: Int, inputs: Int, weight: [Float], bias: [Float]? = nil) {
        precondition(weight.count == outputs * inputs && (bias == nil || bias!.count == outputs))
        self.outputs = outputs
        self.inputs = inputs
        self.weight = weight
        self.bias = bias
    }

    /// y [t, out] = x [t, in] Wᵀ + b.
    public func forward(_ x: [Float], rows t: Int) -> [Float] {
        var y = [Float](repeating: 0, count: t * outputs)
        guard t > 0 else { return y }
        if let b = bias { for r in 0..<t { for j in 0..<outputs { y[r * outputs + j] = b[j] } } }
        let beta: Float = bias == nil ? 0 : 1
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(outputs), Int32(inputs),
                                1, xp.baseAddress, Int32(inputs), wp.baseAddress, Int32(inputs), beta,
                                yp.baseAddress, Int32(outputs))
                }
            }
        }
        return y
    }

    /// dx [t, in] = dy [t, out] W (accumulated into `dx` when `accumulate`).
    public func backward(_ dy: [Float], rows t: Int, into dx: inout [Float], accumulate: Bool) {
        precondition(dx.count == t * inputs)
        guard t > 0 else { return }
        dy.withUnsafeBufferPointer { dp in
            weight.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { xp in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(inputs), Int32(outputs),
                                1, dp.baseAddress, Int32(outputs), wp.baseAddress, Int32(inputs), accumulate ? 1 : 0,
                                xp.baseAddress, Int32(inputs))
                }
            }
        }
    }

    public func backward(_ dy: [Float], rows t: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: t * inputs)
        backward(dy, rows: t, into: &dx, accumulate: false)
        return dx
    }
}
