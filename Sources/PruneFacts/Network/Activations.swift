import Foundation

/// The MLP nonlinearities and their derivatives.
public enum Activations {
    static let c = Float((2 / Double.pi).squareRoot())

    /// GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
    @inline(__always) public static func gelu(_ x: Float) -> Float {
        0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
    }

    @inline(__always) public static func geluDerivative(_ x: Float) -> Float {
        let u = c * (x + 0.044715 * x * x * x)
        let th = tanhf(u)
        let du = c * (1 + 3 * 0.044715 * x * x)
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du
    }

    @inline(__always) public static func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

    @inline(__always) public static func siluDerivative(_ x: Float) -> Float {
        let s = 1 / (1 + expf(-x))
        return s * (1 + x * (1 - s))
    }
}
