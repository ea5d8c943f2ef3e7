import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite("8- and 4-bit floats") struct MiniFloatTests {
    typealias S = QuantTestSupport

    static let formats: [(SafetensorsDType, MiniFloat)] = [
        (.f8_e4m3, .e4m3), (.f8_e5m2, .e5m2), (.f8_e4m3fnuz, .e4m3fnuz), (.f8_e5m2fnuz, .e5m2fnuz),
    ]

    @Test func knownValues() throws {
        func d(_ t: SafetensorsDType, _ codes: [UInt8]) throws -> [Float] { try S.decode(codes, as: .safetensors(t), count: codes.count) }
        #expect(try d(.f8_e4m3, [0x00, 0x01, 0x08, 0x38, 0x7e, 0xfe, 0x80]) == [0, 0x1p-9, 0x1p-6, 1, 448, -448, -0.0])
        #expect(try d(.f8_e4m3, [0x7f, 0xff]).allSatisfy(\.isNaN))
        #expect(try d(.f8_e5m2, [0x3c, 0x7b, 0x7c, 0xfc, 0x01]) == [1, 57344, .infinity, -.infinity, 0x1p-16])
        #expect(try d(.f8_e5m2, [0x7d, 0x7f]).allSatisfy(\.isNaN))
        #expect(try d(.f8_e4m3fnuz, [0x40, 0x7f, 0x01, 0xc0]) == [1, 240, 0x1p-10, -1])
        #expect(try d(.f8_e4m3fnuz, [0x80])[0].isNaN)
        #expect(try d(.f8_e5m2fnuz, [0x40, 0x7f, 0x01]) == [1, 57344, 0x1p-17])
        #expect(try d(.f8_e5m2fnuz, [0x80])[0].isNaN)
        #expect(try d(.f8_e8m0, [0x7f, 0x80, 0x00, 0xfe]) == [1, 2, 0x1p-127, 0x1p127])
        #expect(try d(.f8_e8m0, [0xff])[0].isNaN)
        // F4 E2M1, two values a byte, first value in the low nibble.
        #expect(try S.decode([0x21, 0xf7], as: .safetensors(.f4), count: 4) == [0.5, 1, 6, -6])
    }

    @Test func everyCodeRoundTrips() throws {
        for (dtype, format) in Self.formats {
            let codes = (0...255).map { UInt8($0) }
            let values = try S.decode(codes, as: .safetensors(dtype), count: 256)
            let back = try TensorCodec.encode(values, as: .safetensors(dtype))
            for c in 0..<256 where !values[c].isNaN {
                #expect(back[c] == UInt8(c), "\(dtype) code \(c)")
            }
            for c in 0..<256 where values[c].isNaN { #expect(format.decode(back[c]).isNaN) }
        }
    }

    /// Encoding against a brute-force search over the 256 decoded codes: the nearest value, ties to
    /// the even code; past the largest finite value, inf (E5M2) or NaN (the others).
    @Test func encodingIsNearestEven() throws {
        var rng = S.Rng(seed: 99)
        for (dtype, format) in Self.formats {
            let table = (0...255).map { format.decode(UInt8($0)) }
            let finite = (0...255).filter { table[$0].isFinite }
            let maxFinite = finite.map { Double(table[$0]) }.max()!
            var inputs: [Float] = []
            for _ in 0..<20_000 {
                let e = Double(rng.uniform() * 40 - 26)
                inputs.append(Float(Double(rng.normal()) * pow(2, e)))
            }
            // Exact midpoints between neighbouring codes are ties.
            let sorted = finite.map { Double(table[$0]) }.sorted()
            for i in 1..<sorted.count where sorted[i] != sorted[i - 1] { inputs.append(Float((sorted[i] + sorted[i - 1]) / 2)) }
            let encoded = try TensorCodec.encode(inputs, as: .safetensors(dtype))
            for (i, x) in inputs.enumerated() {
                let a = Double(x)
                let expected: Float
                let best = finite.min { l, r in
                    let dl = abs(Double(table[l]) - a), dr = abs(Double(table[r]) - a)
                    return dl != dr ? dl < dr : (l & 1 == 0 && r & 1 == 1)
                }!
                let bestError = abs(Double(table[best]) - a)
                let ulp = a.magnitude > maxFinite ? Double.infinity : 0
                if a.magnitude > maxFinite && bestError > 0 && ulp.isInfinite
                    && format.decode(format.encode(Float(maxFinite))) == Float(maxFinite) && rounding(a, past: maxFinite, format) {
                    expected = dtype == .f8_e5m2 ? (x < 0 ? -.infinity : .infinity) : .nan
                } else {
                    expected = table[best]
                }
                let got = format.decode(encoded[i])
                if expected.isNaN {
                    #expect(got.isNaN, "\(dtype) \(x)")
                } else {
                    #expect(got == expected && (got != 0 || dtype == .f8_e4m3fnuz || dtype == .f8_e5m2fnuz || got.sign == x.sign), "\(dtype) \(x): got \(got) want \(expected)")
                }
            }
        }
    }

    /// Whether `a` (beyond the largest finite value) rounds past it: more than half an ulp above.
    private func rounding(_ a: Double, past maxFinite: Double, _ format: MiniFloat) -> Bool {
        let ulp = pow(2.0, Double(Int(maxFinite.exponent) - format.mantissaBits))
        let limit = maxFinite + ulp / 2
        // At exactly the midpoint the tie goes to the even neighbour: max finite has an odd
        // mantissa for E4M3/E5M2 variants (…11x), so ties beyond it overflow unless it is even.
        let maxCode = Int(format.encode(Float(maxFinite)))
        return a.magnitude > limit || (a.magnitude == limit && maxCode & 1 == 1)
    }
}
