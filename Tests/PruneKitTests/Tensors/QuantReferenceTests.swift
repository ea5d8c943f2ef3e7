import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Byte-for-byte agreement with gguf-py (`gguf.quants.quantize` / `dequantize`) on random and
/// edge-case values, and decode agreement for every ggml type on random block bytes.
@Suite("Tensor codecs vs gguf-py") struct QuantReferenceTests {
    typealias S = QuantTestSupport

    /// Finite values for the quantized types: 32-value blocks of many shapes.
    static func quantInputs() -> [Float] {
        var rng = S.Rng(seed: 0x5eed_0001)
        var v: [Float] = []
        func block(_ f: (Int) -> Float) { for i in 0..<32 { v.append(f(i)) } }
        for scale: Float in [1e-4, 0.02, 1, 100, 3000] {
            for _ in 0..<200 { block { _ in rng.normal() * scale } }
        }
        for _ in 0..<100 { block { _ in Float(rng.uniform() * 120_000 - 60_000) } }
        for _ in 0..<50 { block { _ in Float(rng.uniform() * 1e-5) } }  // scales in f16 subnormal range
        block { _ in 0 }
        block { _ in -0.0 }
        block { $0 % 2 == 0 ? 0 : -0.0 }
        block { $0 % 3 == 0 ? -0.0 : 0 }
        block { $0 == 7 ? 3.25 : 0 }
        block { $0 == 31 ? -0.75 : 0 }
        block { _ in 0.5 }
        block { _ in -2 }
        block { $0 == 0 ? -3 : ($0 == 1 ? 3 : Float($0) / 16) }       // equal magnitudes: first wins
        block { $0 == 0 ? 3 : ($0 == 5 ? -3 : Float($0) / 16) }
        // Ties: scales chosen so that x/d lands on .5 for Q8_0, Q4_0, Q5_0, Q4_1, Q5_1.
        block { $0 == 0 ? 127 : Float($0 - 16) + 0.5 }
        block { $0 == 0 ? -127 : Float($0 - 16) - 0.5 }
        block { $0 == 0 ? -8 : Float($0 % 16 - 8) + 0.5 }
        block { $0 == 0 ? -16 : Float($0 - 16) + 0.5 }
        block { $0 == 0 ? 0 : ($0 == 1 ? 15 : Float($0 % 15) + 0.5) }
        block { $0 == 0 ? 0 : ($0 == 1 ? 31 : Float($0) - 0.5) }
        // f32 denormals, alone and next to normal values.
        block { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next() & 0x007f_ffff)) }
        block { _ in -Float(bitPattern: UInt32(truncatingIfNeeded: rng.next() & 0x0000_ffff)) }
        block { $0 == 3 ? 1.5 : Float(bitPattern: UInt32($0 + 1)) }
        block { $0 == 0 ? Float.leastNonzeroMagnitude : 0 }
        // One large value among tiny ones, and values at the f16 range edge.
        block { $0 == 9 ? 60000 : rng.normal() * 1e-3 }
        block { $0 == 9 ? -65504 : rng.normal() }
        return v
    }

    /// Values for F16 / BF16: the quantized set plus infinities, NaNs, rounding ties, overflow and
    /// uniformly random bit patterns.
    static func floatInputs() -> [Float] {
        var v = quantInputs()
        let bits: [UInt32] = [
            0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0xffc0_0000, 0x7f80_0001, 0x7fa0_0000, 0xff80_2000,
            0x7fff_ffff, 0x7f80_1fff, 0x7f7f_ffff, 0xff7f_ffff, 0x477f_e000, 0x477f_efff, 0x477f_f000,
            0x477f_f001, 0x3f80_1000, 0x3f80_3000, 0x3f80_0fff, 0x3f80_1001, 0x3300_0000, 0x3300_0001,
            0x33c0_0000, 0x387f_c000, 0x387f_e000, 0x3880_0000, 0x3f80_8000, 0x3f81_8000, 0x3f80_7fff,
            0x7f7f_7fff, 0x7f7f_8000, 0x0000_0001, 0x8000_0001, 0x0080_0000, 0x8000_0000, 0x3f80_0000,
        ]
        v += bits.map { Float(bitPattern: $0) }
        var rng = S.Rng(seed: 0x5eed_0002)
        for _ in 0..<12_800 { v.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        while v.count % 32 != 0 { v.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        return v
    }

    static let byteExactTypes: [GGMLType] = [.f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1]

    @Test("encode/decode match gguf-py byte for byte", arguments: byteExactTypes)
    func matchesGGUFPy(_ type: GGMLType) throws {
        let values = (type == .f16 || type == .bf16) ? Self.floatInputs() : Self.quantInputs()
        let dir = try S.makeTempDir("ref-\(type)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.f32")
        let quantized = dir.appendingPathComponent("q.bin")
        let dequantized = dir.appendingPathComponent("dq.f32")
        try S.writeFloats(values, to: input)
        try S.runReference(["quantize", type.description, "32", input.path, quantized.path])
        try S.runReference(["dequantize", type.description, "32", quantized.path, dequantized.path])
        let reference = [UInt8](try Data(contentsOf: quantized))
        let referenceDequant = try S.readFloats(dequantized)

        let ours = try TensorCodec.encode(values, as: .ggml(type))
        #expect(ours.count == reference.count)
        let mismatch = zip(ours, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(mismatch == nil, "first differing byte \(mismatch ?? -1) (block \((mismatch ?? 0) / type.blockBytes))")

        let decoded = try S.decode(reference, as: .ggml(type), count: values.count)
        let bad = S.firstBitMismatch(decoded, referenceDequant)
        #expect(bad == nil, "decode differs at \(bad ?? -1): \(bad.map { decoded[$0] } ?? 0) vs \(bad.map { referenceDequant[$0] } ?? 0)")
    }

    /// The f16 scale fields of each block layout (byte offsets), kept finite in random blocks.
    static func halfOffsets(_ type: GGMLType) -> [Int] {
        switch type {
        case .q4_0, .q5_0, .q8_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q2_K: return [80, 82]
        case .q3_K: return [108]
        case .q6_K: return [208]
        default: return []
        }
    }

    static let allDecodable: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    @Test("decode of random blocks matches gguf-py", arguments: allDecodable)
    func randomBlocksDecodeLikeGGUFPy(_ type: GGMLType) throws {
        var rng = S.Rng(seed: 0xb10c_0000 &+ UInt64(type.rawValue))
        let ne0 = type.blockSize == 256 ? 512 : 64
        let rows = 64
        let blocks = rows * ne0 / type.blockSize
        var bytes = [UInt8](repeating: 0, count: blocks * type.blockBytes)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        for b in 0..<blocks {
            for offset in Self.halfOffsets(type) {
                let p = b * type.blockBytes + offset
                if bytes[p + 1] & 0x7c == 0x7c { bytes[p + 1] &= 0xbf }   // no inf/NaN scales
            }
        }
        let dir = try S.makeTempDir("rand-\(type)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("q.bin")
        let output = dir.appendingPathComponent("dq.f32")
        try Data(bytes).write(to: input)
        try S.runReference(["dequantize", type.description, String(ne0), input.path, output.path])
        let reference = try S.readFloats(output)
        let ours = try S.decode(bytes, as: .ggml(type), count: rows * ne0)
        let bad = S.firstBitMismatch(ours, reference)
        #expect(bad == nil, "\(type) decode differs at element \(bad ?? -1): \(bad.map { ours[$0] } ?? 0) vs \(bad.map { reference[$0] } ?? 0)")
    }
}
