/// The 4- and 8-bit float formats of safetensors (OCP FP8 / MX and the AMD "fnuz" variants).
///
/// Decoding goes through a 256-entry table built from the bit fields. Encoding rounds to nearest
/// even and is non-saturating, like PyTorch's and ml_dtypes' casts: a value beyond the largest
/// finite one becomes inf where the format has it (E5M2) and NaN otherwise; NaN stays NaN.
package struct MiniFloat: Sendable {
    package enum Specials: Sendable {
        /// IEEE-like: exponent all ones is inf (mantissa 0) or NaN (E5M2).
        case ieee
        /// "fn": no infinities; only exponent and mantissa all ones is NaN (E4M3).
        case finite
        /// "fnuz": no infinities, no negative zero; 0x80 is the only NaN.
        case unsignedZero
        /// Scale-only E8M0: no sign or mantissa, 0xff is NaN.
        case exponentOnly
    }

    package let exponentBits: Int
    package let mantissaBits: Int
    package let bias: Int
    package let specials: Specials
    /// Decoded value of every code (only the low `1 + e + m` bits are used for 4-bit formats).
    package let table: [Float]
    package let maxFinite: Double

    package init(exponentBits: Int, mantissaBits: Int, bias: Int, specials: Specials) {
        self.exponentBits = exponentBits
        self.mantissaBits = mantissaBits
        self.bias = bias
        self.specials = specials
        let width = (specials == .exponentOnly ? 0 : 1) + exponentBits + mantissaBits
        var table = [Float](repeating: .nan, count: 256)
        var maxFinite = 0.0
        for code in 0..<(1 << width) {
            let v = MiniFloat.value(of: code, exponentBits, mantissaBits, bias, specials)
            table[code] = Float(v)
            if v.isFinite { maxFinite = max(maxFinite, v) }
        }
        self.table = table
        self.maxFinite = maxFinite
    }

    private static func value(of code: Int, _ e: Int, _ m: Int, _ bias: Int, _ specials: Specials) -> Double {
        if specials == .exponentOnly {
            return code == 0xff ? .nan : Double(sign: .plus, exponent: code - bias, significand: 1)
        }
        let negative = (code >> (e + m)) & 1 == 1
        let exponentField = (code >> m) & ((1 << e) - 1)
        let mantissa = code & ((1 << m) - 1)
        let allOnes = exponentField == (1 << e) - 1
        switch specials {
        case .ieee where allOnes:
            return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan
        case .finite where allOnes && mantissa == (1 << m) - 1 && e + m == 7:
            return .nan
        case .unsignedZero where negative && exponentField == 0 && mantissa == 0:
            return .nan
        default:
            break
        }
        let magnitude: Double
        if exponentField == 0 {
            magnitude = Double(mantissa) * Double(sign: .plus, exponent: 1 - bias - m, significand: 1)
        } else {
            magnitude = Double((1 << m) + mantissa) * Double(sign: .plus, exponent: exponentField - bias - m, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }

    @inline(__always)
    package func decode(_ code: UInt8) -> Float { table[Int(code)] }

    /// The code of the representable value nearest to `x` (ties to even mantissa).
    /// Not defined for E8M0 (whose rounding rule is not fixed by the spec): returns its NaN code.
    package func encode(_ x: Float) -> UInt8 {
        if specials == .exponentOnly { return 0xff }
        let signBit = UInt8(1) << UInt8(exponentBits + mantissaBits)
        let negative = x.sign == .minus
        if x.isNaN {
            switch specials {
            case .ieee: return (negative ? signBit : 0) | UInt8((1 << (exponentBits + mantissaBits)) - 1)
            case .finite: return (negative ? signBit : 0) | (signBit - 1)
            case .unsignedZero, .exponentOnly: return 0x80
            }
        }
        let a = Double(x.magnitude)
        let overflow: UInt8 = {
            switch specials {
            case .ieee: return (negative ? signBit : 0) | UInt8(((1 << exponentBits) - 1) << mantissaBits)
            case .finite: return (negative ? signBit : 0) | (signBit - 1)
            case .unsignedZero, .exponentOnly: return 0x80
            }
        }()
        if a.isInfinite { return overflow }
        let minExponent = 1 - bias
        let e = a == 0 ? minExponent : max(Int(a.exponent), minExponent)
        let quantum = Double(sign: .plus, exponent: e - mantissaBits, significand: 1)
        let q = (a / quantum).rounded(.toNearestOrEven)
        let value = q * quantum
        if value > maxFinite { return overflow }
        if value == 0 {
            return negative && specials != .unsignedZero ? signBit : 0
        }
        let ve = Int(value.exponent)
        let code: Int
        if ve < minExponent {
            code = Int(value / Double(sign: .plus, exponent: minExponent - mantissaBits, significand: 1))
        } else {
            let mantissa = Int((value / Double(sign: .plus, exponent: ve - mantissaBits, significand: 1))) - (1 << mantissaBits)
            code = ((ve + bias) << mantissaBits) | mantissa
        }
        return (negative ? signBit : 0) | UInt8(code)
    }

    package static let e4m3 = MiniFloat(exponentBits: 4, mantissaBits: 3, bias: 7, specials: .finite)
    package static let e5m2 = MiniFloat(exponentBits: 5, mantissaBits: 2, bias: 15, specials: .ieee)
    package static let e4m3fnuz = MiniFloat(exponentBits: 4, mantissaBits: 3, bias: 8, specials: .unsignedZero)
    package static let e5m2fnuz = MiniFloat(exponentBits: 5, mantissaBits: 2, bias: 16, specials: .unsignedZero)
    package static let e8m0 = MiniFloat(exponentBits: 8, mantissaBits: 0, bias: 127, specials: .exponentOnly)
    /// FP4 E2M1: no infinities or NaN (all 16 codes are finite).
    package static let e2m1 = MiniFloat(exponentBits: 2, mantissaBits: 1, bias: 1, specials: .finite)
}
