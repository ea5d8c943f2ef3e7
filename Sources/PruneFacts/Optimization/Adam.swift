import Foundation

/// torch.optim.Adam on one vector (no weight decay, no amsgrad): the update ROME, MEMIT and
/// AlphaEdit use, in float32 like torch.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public private(set) var step = 0
    private var m: [Float]
    private var v: [Float]

    public init(count: Int, learningRate: Double, betas: [Double] = [0.9, 0.999], epsilon: Double = 1e-8) {
        self.learningRate = Float(learningRate)
        self.beta1 = Float(betas.first ?? 0.9)
        self.beta2 = Float(betas.count > 1 ? betas[1] : 0.999)
        self.epsilon = Float(epsilon)
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// One step: `x -= lr · m̂ / (√v̂ + ε)` with bias-corrected moments (torch's arithmetic order).
    public mutating func update(_ x: inout [Float], gradient g: [Float]) {
        precondition(x.count == g.count && g.count == m.count)
        step += 1
        let bc1 = 1 - Float(pow(Double(beta1), Double(step)))
        let bc2 = 1 - Float(pow(Double(beta2), Double(step)))
        let stepSize = learningRate / bc1
        let bc2Sqrt = bc2.squareRoot()
        for i in 0..<x.count {
            m[i] = m[i] + (g[i] - m[i]) * (1 - beta1)
            v[i] = v[i] * beta2 + (1 - beta2) * g[i] * g[i]
            let denom = v[i].squareRoot() / bc2Sqrt + epsilon
            x[i] -= stepSize * m[i] / denom
        }
    }
}
