import Foundation

/// Element-wise activations of the MLP.
package enum Activations {
    /// Applies `f` in place.
    package static func apply(_ f: ActivationFunction, _ x: inout [Float]) {
        _ = apply(f, &x, saving: false)
    }

    /// Applies `f` in place and, when `saving`, returns each element's transcendental part for the
    /// backward (`derivative(_:at:part:)`): tanh(u) for gelu-tanh, 1 + e⁻ˣ for silu; nil for the others
    /// (their derivative is computed from x). The values are the same bits with or without saving.
    package static func apply(_ f: ActivationFunction, _ x: inout [Float], saving: Bool) -> [Float]? {
        var part: [Float]? = nil
        x.withUnsafeMutableBufferPointer { p in
            switch f {
            case .geluTanh:
                var t = saving ? [Float](repeating: 0, count: p.count) : []
                for i in p.indices {
                    let ti = geluTanhPart(p[i])
                    if saving { t[i] = ti }
                    p[i] = 0.5 * p[i] * (1 + ti)
                }
                if saving { part = t }
            case .geluErf:
                let c = Float(1 / 2.0.squareRoot())
                for i in p.indices { let v = p[i]; p[i] = 0.5 * v * (1 + erff(v * c)) }
            case .relu:
                for i in p.indices where p[i] < 0 { p[i] = 0 }
            case .silu:
                var e = saving ? [Float](repeating: 0, count: p.count) : []
                for i in p.indices {
                    let ei = 1 + expf(-p[i])
                    if saving { e[i] = ei }
                    p[i] = p[i] / ei
                }
                if saving { part = e }
            }
        }
        return part
    }

    static let geluTanhScale = Float((2 / Double.pi).squareRoot())

    /// tanh(√(2/π)·(x + 0.044715·x³)), gelu-tanh's transcendental part.
    @inline(__always) static func geluTanhPart(_ x: Float) -> Float {
        tanh(geluTanhScale * (x + 0.044715 * x * x * x))
    }

    /// tanh(u) = 1 − 2/(e²ᵘ + 1) from one expf: within a few 1e-8 of tanhf (which goes through the
    /// slower expm1f; gelu's tanh was most of a GPT-2 block's time outside the matrix products),
    /// exactly ±1 where e²ᵘ overflows or vanishes.
    @inline(__always) static func tanh(_ u: Float) -> Float { 1 - 2 / (expf(2 * u) + 1) }

    /// A gated MLP's key = f(gate) · up, element-wise (SwiGLU with silu, GeGLU with gelu), and, when
    /// `saving`, the gate's transcendental part (see `apply(_:_:saving:)`).
    package static func gated(_ f: ActivationFunction, gate: [Float], up: [Float], saving: Bool = false) -> (key: [Float], part: [Float]?) {
        var out = gate
        let part = apply(f, &out, saving: saving)
        out.withUnsafeMutableBufferPointer { o in
            up.withUnsafeBufferPointer { u in for i in o.indices { o[i] *= u[i] } }
        }
        return (out, part)
    }

    /// A gated MLP's backward: d gate = dkey·up·f′(gate), d up = dkey·f(gate), element-wise; `part` is
    /// what the forward saved (nil: recomputed, same bits).
    package static func gatedBackward(_ f: ActivationFunction, _ dkey: [Float], gate: [Float], up: [Float],
                                      part: [Float]? = nil) -> (gate: [Float], up: [Float]) {
        let p = part ?? transcendental(f, gate)
        var dg = [Float](repeating: 0, count: dkey.count), du = dg
        for i in dkey.indices {
            dg[i] = dkey[i] * up[i] * derivative(f, at: gate[i], part: p.isEmpty ? 0 : p[i])
            du[i] = dkey[i] * value(f, at: gate[i], part: p.isEmpty ? 0 : p[i])
        }
        return (dg, du)
    }

    /// The transcendental parts of `x` (empty for the functions that have none).
    static func transcendental(_ f: ActivationFunction, _ x: [Float]) -> [Float] {
        var y = x
        return apply(f, &y, saving: true) ?? []
    }

    /// f(x) from its transcendental part: the same bits as `apply`.
    @inline(__always) static func value(_ f: ActivationFunction, at x: Float, part: Float) -> Float {
        switch f {
        case .geluTanh: return 0.5 * x * (1 + part)
        case .silu: return x / part
        case .geluErf: return 0.5 * x * (1 + erff(x * Float(1 / 2.0.squareRoot())))
        case .relu: return x < 0 ? 0 : x
        }
    }

    /// dx = dy·f′(x), element-wise: the backward of `apply`; `part` is what the forward saved (nil:
    /// recomputed, same bits).
    package static func backward(_ f: ActivationFunction, _ dy: [Float], input x: [Float], part: [Float]? = nil) -> [Float] {
        let p = part ?? transcendental(f, x)
        var dx = dy
        dx.withUnsafeMutableBufferPointer { d in
            x.withUnsafeBufferPointer { xp in
                switch f {
                case .geluTanh: for i in d.indices { d[i] *= derivative(.geluTanh, at: xp[i], part: p[i]) }
                case .silu: for i in d.indices { d[i] *= derivative(.silu, at: xp[i], part: p[i]) }
                case .geluErf: for i in d.indices { d[i] *= derivative(.geluErf, at: xp[i], part: 0) }
                case .relu: for i in d.indices where !(xp[i] > 0) { d[i] = 0 }
                }
            }
        }
        return dx
    }

    /// The derivative f′(x) (for backward passes through the MLP) from x and its transcendental part
    /// (`apply(_:_:saving:)`; ignored by the functions that have none).
    @inline(__always) package static func derivative(_ f: ActivationFunction, at x: Float, part: Float) -> Float {
        switch f {
        case .geluTanh:
            let t = part
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluTanhScale * (1 + 3 * 0.044715 * x * x)
        case .geluErf:
            let cdf = 0.5 * (1 + erff(x / Float(2.0.squareRoot())))
            let pdf = expf(-0.5 * x * x) / Float((2 * Double.pi).squareRoot())
            return cdf + x * pdf
        case .relu:
            return x > 0 ? 1 : 0
        case .silu:
            let s = 1 / part
            return s * (1 + x * (1 - s))
        }
    }

    /// The derivative f′(x), its transcendental part computed here.
    @inline(__always) package static func derivative(_ f: ActivationFunction, at x: Float) -> Float {
        switch f {
        case .geluTanh: return derivative(f, at: x, part: geluTanhPart(x))
        case .silu: return derivative(f, at: x, part: 1 + expf(-x))
        case .geluErf, .relu: return derivative(f, at: x, part: 0)
        }
    }
}
