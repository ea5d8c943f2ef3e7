import Foundation

/// The MLP nonlinearities and their derivatives.
public enum Activations {
    static let c = Float((2 / Double.pi).squareRoot())

    /// GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
    @inline(__always) public static func gelu(_ x: Float) -> Float { gelu(x, tanh: geluTanh(x)) }

    /// tanh(√(2/π)(x + 0.044715x³)), the part of gelu its derivative reuses.
    @inline(__always) public static func geluTanh(_ x: Float) -> Float { tanh(c * (x + 0.044715 * x * x * x)) }

    /// tanh(u) = 1 − 2/(e²ᵘ + 1) from one expf: within a few 1e-8 of tanhf (which goes through the
    /// slower expm1f), exactly ±1 where e²ᵘ overflows or vanishes.
    @inline(__always) static func tanh(_ u: Float) -> Float { 1 - 2 / (expf(2 * u) + 1) }

    /// gelu from x and its `geluTanh(x)`: the same bits as `gelu(x)`.
    @inline(__always) public static func gelu(_ x: Float, tanh th: Float) -> Float { 0.5 * x * (1 + th) }

    @inline(__always) public static func geluDerivative(_ x: Float) -> Float { geluDerivative(x, tanh: geluTanh(x)) }

    /// The derivative from x and its `geluTanh(x)` (saved by the forward): the same bits.
    @inline(__always) public static func geluDerivative(_ x: Float, tanh th: Float) -> Float {
        let du = c * (1 + 3 * 0.044715 * x * x)
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du
    }

    @inline(__always) public static func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

    @inline(__always) public static func siluDerivative(_ x: Float) -> Float {
        let s = 1 / (1 + expf(-x))
        return s * (1 + x * (1 - s))
    }
}
