import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The lost-bits residual on its own: apply's output equals the reference materialisation
/// (FactoredDelta.add, then the codec), revert is exact, and no byte depends on the thread count.
@Suite struct LostBitsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var type: TensorType
        var rows: Int
        var cols: Int
        var rank: Int
        /// Scale of the delta relative to the weights' (0.02).
        var strength: Float
        var testDescription: String { "\(type) \(rows)x\(cols) rank \(rank) strength \(strength)" }
    }

    static let cases: [Case] = [
        Case(type: .safetensors(.f32), rows: 300, cols: 200, rank: 1, strength: 0.001),
        Case(type: .safetensors(.f32), rows: 300, cols: 200, rank: 3, strength: 5),
        Case(type: .safetensors(.f32), rows: 1500, cols: 260, rank: 2, strength: 400),
        Case(type: .safetensors(.f16), rows: 256, cols: 384, rank: 2, strength: 1),
        Case(type: .ggml(.f16), rows: 64, cols: 1024, rank: 4, strength: 30),
        Case(type: .safetensors(.bf16), rows: 384, cols: 256, rank: 2, strength: 0.5),
        Case(type: .ggml(.bf16), rows: 128, cols: 512, rank: 1, strength: 50),
        Case(type: .ggml(.f32), rows: 33, cols: 17, rank: 0, strength: 1),
    ]

    /// Seeded values: Gaussian-like weights with zeros, negative zeros, subnormals, powers of two
    /// and values next to them, and a few huge values (overflow to ±inf in F16 after the edit).
    static func weights(_ c: Case, seed: UInt64) -> [Float] {
        var s = seed | 1
        func next() -> UInt64 { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s &* 0x2545_F491_4F6C_DD1D }
        func gauss() -> Float {
            let a = Float(next() & 0xFFFF) + Float((next() >> 16) & 0xFFFF) + Float((next() >> 32) & 0xFFFF) + Float(next() >> 48)
            return (a / 65535 - 2) * 0.02
        }
        var w = (0..<(c.rows * c.cols)).map { _ in gauss() }
        let specials: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, 1, 0.5, Float(0.25).nextDown,
                                 Float(-0.125).nextUp, 2, 60000, -65000, 1e-6, 3e38]
        for (i, v) in specials.enumerated() where i * 37 < w.count { w[i * 37] = v }
        return w
    }

    static func factors(_ c: Case, seed: UInt64) throws -> FactoredDelta {
        var s = seed | 3
        func next() -> Float { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return Float(Int64(bitPattern: s &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 23) }
        let u = (0..<(c.rows * c.rank)).map { _ in next() * c.strength * 0.02 }
        let v = (0..<(c.cols * c.rank)).map { _ in next() }
        return try FactoredDelta(rows: c.rows, cols: c.cols, rank: c.rank, u: u, v: v)
    }

    @Test(arguments: cases)
    func applyMatchesTheReferenceAndRevertIsExact(_ c: Case) throws {
        let stored = try TensorCodec.encode(Self.weights(c, seed: 42), as: c.type)
        // F32 values above the F16 range stay finite in F32 but become ±inf in 16-bit types: keep them.
        let delta = try Self.factors(c, seed: 7)
        // Reference: decode, FactoredDelta.add, encode.
        var w = try stored.withUnsafeBytes { try TensorCodec.decode($0, as: c.type, count: c.rows * c.cols) }
        try delta.add(to: &w, threads: 1)
        let reference = try TensorCodec.encode(w, as: c.type)
        var firstResidual: [UInt8]?
        for threads in [1, 2, 3, 8] {
            let (out, residual) = try stored.withUnsafeBytes { try LostBits.apply(base: $0, type: c.type, delta: delta, threads: threads) }
            #expect(out == reference ? true : false, "output differs from FactoredDelta.add at \(threads) threads")
            if let firstResidual { #expect(residual == firstResidual ? true : false, "residual depends on the thread count (\(threads))") }
            firstResidual = firstResidual ?? residual
            let replayed = try stored.withUnsafeBytes {
                try LostBits.materialise(base: $0, type: c.type, delta: delta, threads: threads)
            }
            #expect(replayed == reference ? true : false, "materialise differs")
            let back = try out.withUnsafeBytes {
                try LostBits.revert(edited: $0, type: c.type, delta: delta, residual: residual, threads: threads, path: "p", tensor: "t")
            }
            #expect(back == stored ? true : false, "revert is not exact at \(threads) threads")
        }
    }

    @Test func aDamagedResidualIsRefused() throws {
        let c = Self.cases[1]
        let stored = try TensorCodec.encode(Self.weights(c, seed: 5), as: c.type)
        let delta = try Self.factors(c, seed: 9)
        let (out, residual) = try stored.withUnsafeBytes { try LostBits.apply(base: $0, type: c.type, delta: delta, threads: 2) }
        #expect(residual.count > 100)
        for bad in [Array(residual.dropLast(3)), residual + [0], [UInt8](residual.prefix(2))] {
            #expect(throws: SidecarError.self) {
                _ = try out.withUnsafeBytes {
                    try LostBits.revert(edited: $0, type: c.type, delta: delta, residual: bad, threads: 2, path: "p", tensor: "t")
                }
            }
        }
    }

    @Test func truncatedBinaryCodesRoundTrip() {
        var w = BitWriter()
        var expected: [(UInt64, UInt64)] = []
        for count in [2, 3, 5, 7, 8, 9, 1000, 65537, 1 << 31, (1 << 32) + 3] as [UInt64] {
            for v in [0, 1, count / 2, count - 2, count - 1] as [UInt64] where v < count {
                w.writeTruncated(v, count: count)
                expected.append((v, count))
            }
        }
        w.write(0x1234_5678_9ABC_DEF0, bits: 64)
        let bytes = w.finish()
        bytes.withUnsafeBytes { raw in
            var r = BitReader(raw, from: 0, to: w.bitCount)
            for (v, count) in expected { #expect(r.readTruncated(count: count) == v) }
            #expect(r.read(bits: 64) == 0x1234_5678_9ABC_DEF0)
            #expect(r.read(bits: 1) == nil)
        }
    }
    /// The shortcuts (nothing lost; the run in R's binade) give the general run's result wherever
    /// they answer, on every 16-bit pattern and on seeded F32 patterns, with deltas from far below a
    /// spacing to many binades, and with deltas on exact half-spacings (ties at the interval's ends).
    @Test func theBinadeShortcutAgreesWithTheGeneralRun() {
        func check<E: LostBitsElement>(_ e: E.Type, patterns: [UInt32], seed: UInt64) -> (answered: Int, total: Int) {
            var s = seed | 1
            func next() -> UInt64 { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s &* 0x2545_F491_4F6C_DD1D }
            var answered = 0, total = 0, failures = 0
            for o in patterns where LostBits.finite(e, o) {
                let v = Double(E.decode(o))
                let spacing = abs(Double(E.decode(o + 1)) - v)
                var deltas: [Double] = [0, spacing / 2, -spacing / 2, 1.5 * spacing, -3.5 * spacing, v, -v / 2, -0.75 * v, 3 * v]
                for _ in 0..<4 {
                    let scale = pow(2.0, Double(Int(next() % 40)) - 30)
                    deltas.append(v * scale * (Double(next() % 2001) / 1000 - 1))
                }
                for d in deltas where d.isFinite {
                    let r = LostBits.back(e, o, d)
                    let general = LostBits.generalRun(e, out: o, r: r, d: d)
                    total += 1
                    if LostBits.nothingLost(e, out: o, r: r, t: Double(E.decode(o)) - d), general != (r, LostBits.key(e, r), 1), failures < 5 {
                        failures += 1
                        Issue.record("\(E.self) out \(String(o, radix: 16)) d \(d): nothing lost, but the general run is \(general)")
                    }
                    guard let fast = LostBits.runInBinade(e, out: o, r: r, d: d) else { continue }
                    answered += 1
                    if fast != general, failures < 5 {
                        failures += 1
                        Issue.record("\(E.self) out \(String(o, radix: 16)) d \(d): shortcut \(fast), general \(general)")
                    }
                }
            }
            return (answered, total)
        }
        let all16 = (0..<UInt32(1 << 16)).map { $0 }
        var s: UInt64 = 99
        let f32 = (0..<200_000).map { _ -> UInt32 in
            s ^= s >> 12; s ^= s << 25; s ^= s >> 27
            let x = UInt32(truncatingIfNeeded: (s &* 0x2545_F491_4F6C_DD1D) >> 32)
            // Half anywhere, half near the weights' range with edge mantissas.
            return x & 1 == 0 ? x : (x & 0x8000_0000) | ((0x3A00_0000 + (x >> 8) % 0x0500_0000) & ~(x & 4 == 0 ? 0 : 0x007F_FFFF))
        }
        for (name, result) in [("f16", check(F16Bits.self, patterns: all16, seed: 1)),
                               ("bf16", check(BF16Bits.self, patterns: all16, seed: 2)),
                               ("f32", check(F32Bits.self, patterns: f32, seed: 3))] {
            // Not vacuous: the shortcut answers most cases.
            #expect(Double(result.answered) > 0.6 * Double(result.total), "\(name): the shortcut answered \(result.answered) of \(result.total)")
        }
    }
}
