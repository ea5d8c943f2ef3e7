import Foundation

/// Element-wise activations of the MLP.
package enum Activations {
    /// Applies `f` in place.
    package static func apply(_ f: ActivationFunction, _ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in
            switch f {
            case .geluTanh:
                let c = Float((2 / Double.pi).squareRoot())
                for i in p.indices { let v = p[i]; p[i] = 0.5 * v * (1 + tanh(c * (v + 0.044715 * v * v * v))) }
            case .geluErf:
                let c = Float(1 / 2.0.squareRoot())
                for i in p.indices { let v = p[i]; p[i] = 0.5 * v * (1 + erff(v * c)) }
            case .relu:
                for i in p.indices where p[i] < 0 { p[i] = 0 }
            case .silu:
                for i in p.indices { let v = p[i]; p[i] = v / (1 + expf(-v)) }
            }
        }
    }

    /// tanh(u) = 1 − 2/(e²ᵘ + 1) from one expf: within a few 1e-8 of tanhf (which goes through the
    /// slower expm1f; gelu's tanh was most of a GPT-2 block's time outside the matrix products),
    /// exactly ±1 where e²ᵘ overflows or vanishes.
    @inline(__always) static func tanh(_ u: Float) -> Float { 1 - 2 / (expf(2 * u) + 1) }

    /// A gated MLP's key = f(gate) · up, element-wise (SwiGLU with silu, GeGLU with gelu).
    package static func gated(_ f: ActivationFunction, gate: [Float], up: [Float]) -> [Float] {
        var out = gate
        apply(f, &out)
        out.withUnsafeMutableBufferPointer { o in
            up.withUnsafeBufferPointer { u in for i in o.indices { o[i] *= u[i] } }
        }
        return out
    }

    /// A gated MLP's backward: d gate = dkey·up·f′(gate), d up = dkey·f(gate), element-wise.
    package static func gatedBackward(_ f: ActivationFunction, _ dkey: [Float], gate: [Float], up: [Float]) -> (gate: [Float], up: [Float]) {
        var fg = gate
        apply(f, &fg)
        var dg = [Float](repeating: 0, count: dkey.count), du = dg
        for i in dkey.indices {
            dg[i] = dkey[i] * up[i] * derivative(f, at: gate[i])
            du[i] = dkey[i] * fg[i]
        }
        return (dg, du)
    }

    /// dx = dy·f′(x), element-wise: the backward of `apply` (one loop per function, as `apply`).
    package static func backward(_ f: ActivationFunction, _ dy: [Float], input x: [Float]) -> [Float] {
        var dx = dy
        dx.withUnsafeMutableBufferPointer { d in
            x.withUnsafeBufferPointer { xp in
                switch f {
                case .geluTanh: for i in d.indices { d[i] *= derivative(.geluTanh, at: xp[i]) }
                case .geluErf: for i in d.indices { d[i] *= derivative(.geluErf, at: xp[i]) }
                case .relu: for i in d.indices where !(xp[i] > 0) { d[i] = 0 }
                case .silu: for i in d.indices { d[i] *= derivative(.silu, at: xp[i]) }
                }
            }
        }
        return dx
    }

    /// The derivative f′(x) (for backward passes through the MLP).
    @inline(__always) package static func derivative(_ f: ActivationFunction, at x: Float) -> Float {
        switch f {
        case .geluTanh:
            let c = Float((2 / Double.pi).squareRoot())
            let u = c * (x + 0.044715 * x * x * x)
            let t = tanh(u)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        case .geluErf:
            let cdf = 0.5 * (1 + erff(x / Float(2.0.squareRoot())))
            let pdf = expf(-0.5 * x * x) / Float((2 * Double.pi).squareRoot())
            return cdf + x * pdf
        case .relu:
            return x > 0 ? 1 : 0
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        }
    }
}
