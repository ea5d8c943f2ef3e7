import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite("Tensor codec API") struct TensorCodecTests {
    typealias S = QuantTestSupport

    static let quantTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    @Test func supportedTypes() {
        for g in [GGMLType.f32, .f16, .bf16, .f64] + Self.quantTypes {
            #expect(TensorCodec.canDecode(.ggml(g)) && TensorCodec.canEncode(.ggml(g)), "\(g)")
        }
        for g in [GGMLType.i8, .i16, .i32, .i64, .q8_1, .q8_K, .iq2_XXS, .iq4_NL, .tq1_0, .mxfp4] {
            #expect(!TensorCodec.canDecode(.ggml(g)) && !TensorCodec.canEncode(.ggml(g)), "\(g)")
        }
        let both: [SafetensorsDType] = [.f64, .f32, .f16, .bf16, .f8_e4m3, .f8_e5m2, .f8_e4m3fnuz, .f8_e5m2fnuz]
        for d in both { #expect(TensorCodec.canDecode(.safetensors(d)) && TensorCodec.canEncode(.safetensors(d)), "\(d)") }
        for d in [SafetensorsDType.f8_e8m0, .f4] { #expect(TensorCodec.canDecode(.safetensors(d)) && !TensorCodec.canEncode(.safetensors(d))) }
        for d in SafetensorsDType.allCases where !d.isFloat || d == .f6_e2m3 || d == .f6_e3m2 {
            #expect(!TensorCodec.canDecode(.safetensors(d)) && !TensorCodec.canEncode(.safetensors(d)), "\(d)")
        }
    }

    @Test func safetensorsDTypesAreTheCurrentSpecList() {
        // The safetensors 0.8 reference crate's Dtype variants (its deserializer error lists them).
        let spec = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
                    "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
        #expect(Set(SafetensorsDType.allCases.map(\.rawValue)) == Set(spec))
    }

    @Test func ggmlBlockSizesMatchGGUFPy() throws {
        let dir = try S.makeTempDir("sizes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = "from gguf.constants import GGML_QUANT_SIZES as S\nfor t,(b,s) in S.items(): print(t.value, t.name, b, s)"
        let r = try TestProcess.run("/usr/bin/env", ["python3", "-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdoutText.split(separator: "\n")
        #expect(lines.count >= GGMLType.allCases.count)
        for line in lines {
            let f = line.split(separator: " ")
            let type = try #require(GGMLType(rawValue: UInt32(f[0])!), "type \(f[1]) missing from GGMLType")
            #expect(type.description == String(f[1]) && type.blockSize == Int(f[2])! && type.blockBytes == Int(f[3])!, "\(line)")
        }
    }

    @Test("bad sizes are clear errors", arguments: [TensorType.ggml(.q4_K), .ggml(.q8_0), .ggml(.f16), .safetensors(.bf16), .safetensors(.f4)])
    func badSizes(_ type: TensorType) throws {
        let block = TensorCodec.blockSize(type)
        let good = block * 4
        let bytes = [UInt8](repeating: 0, count: type.byteCount(forElements: good)!)
        #expect(try S.decode(bytes, as: type, count: good).count == good)
        #expect(throws: TensorCodecError.byteCountMismatch(type, count: good, expected: bytes.count, actual: bytes.count - 1)) {
            try S.decode(Array(bytes.dropLast()), as: type, count: good)
        }
        #expect(throws: TensorCodecError.byteCountMismatch(type, count: good, expected: bytes.count, actual: bytes.count + 1)) {
            try S.decode(bytes + [0], as: type, count: good)
        }
        if block > 1 {
            #expect(throws: TensorCodecError.countNotMultipleOfBlock(type, count: good + 1, blockSize: block)) {
                try S.decode(bytes, as: type, count: good + 1)
            }
            if TensorCodec.canEncode(type) {
                #expect(throws: TensorCodecError.countNotMultipleOfBlock(type, count: block + 1, blockSize: block)) {
                    try TensorCodec.encode([Float](repeating: 1, count: block + 1), as: type)
                }
            }
        }
        #expect(throws: TensorCodecError.self) { try S.decode(bytes, as: type, count: -block) }
        #expect(throws: TensorCodecError.self) { try S.decode(bytes, as: type, count: Int.max - Int.max % block) }
        #expect(try S.decode([], as: type, count: 0).isEmpty)
        if TensorCodec.canEncode(type) { #expect(try TensorCodec.encode([], as: type).isEmpty) }
    }

    @Test func unsupportedTypesAreRefused() {
        #expect(throws: TensorCodecError.unsupportedType(.ggml(.iq2_XXS), operation: .decode)) {
            try S.decode([UInt8](repeating: 0, count: 66), as: .ggml(.iq2_XXS), count: 256)
        }
        #expect(throws: TensorCodecError.unsupportedType(.safetensors(.i32), operation: .encode)) {
            try TensorCodec.encode([1, 2], as: .safetensors(.i32))
        }
        #expect(throws: TensorCodecError.unsupportedType(.safetensors(.f6_e2m3), operation: .decode)) {
            try S.decode([0, 0, 0], as: .safetensors(.f6_e2m3), count: 4)
        }
        #expect(throws: TensorCodecError.unsupportedType(.safetensors(.f8_e8m0), operation: .encode)) {
            try TensorCodec.encode([1], as: .safetensors(.f8_e8m0))
        }
    }

    @Test("non-finite or too large input to a quantized type is an error", arguments: quantTypes)
    func nonFiniteAndOverflow(_ type: GGMLType) {
        var x = [Float](repeating: 0.25, count: type.blockSize * 3)
        x[type.blockSize + 5] = .nan
        #expect(throws: TensorCodecError.nonFiniteValue(.ggml(type), index: type.blockSize + 5)) { try TensorCodec.encode(x, as: .ggml(type)) }
        x[type.blockSize + 5] = -.infinity
        #expect(throws: TensorCodecError.nonFiniteValue(.ggml(type), index: type.blockSize + 5)) { try TensorCodec.encode(x, as: .ggml(type)) }
        x[type.blockSize + 5] = 0.5
        x[2 * type.blockSize + 1] = 3e38
        #expect(throws: TensorCodecError.valueOutOfRange(.ggml(type), index: 2 * type.blockSize)) { try TensorCodec.encode(x, as: .ggml(type)) }
        x[2 * type.blockSize + 1] = 1
        #expect(throws: Never.self) { try TensorCodec.encode(x, as: .ggml(type)) }
    }

    @Test func errorMessagesAreOneLineAndNameTheFile() {
        let errors: [TensorCodecError] = [
            .unsupportedType(.ggml(.iq1_S), operation: .decode), .countNotMultipleOfBlock(.ggml(.q4_K), count: 100, blockSize: 256),
            .byteCountMismatch(.ggml(.q8_0), count: 32, expected: 34, actual: 33), .sizeOverflow(.safetensors(.f64), count: Int.max),
            .nonFiniteValue(.ggml(.q4_0), index: 3), .valueOutOfRange(.ggml(.q6_K), index: 512),
        ]
        for e in errors {
            let line = e.describing(in: "model.gguf", tensor: "blk.0.attn_q.weight")
            #expect(!line.contains("\n") && line.hasPrefix("model.gguf: ") && line.hasSuffix("(tensor blk.0.attn_q.weight)"))
        }
        #expect(errors[0].errorDescription!.contains("IQ1_S"))
        #expect(errors[2].errorDescription == "33 bytes do not hold 32 Q8_0 values (expected 34 bytes)")
    }

    @Test("results do not depend on the thread count", arguments: [GGMLType.f16, .bf16, .q8_0, .q4_1, .q5_0, .q4_K, .q5_K, .q6_K, .q3_K, .q2_K])
    func threadIndependent(_ type: GGMLType) throws {
        var rng = S.Rng(seed: 7)
        let x = (0..<(256 * 1100)).map { _ in rng.normal() * 0.05 }
        let one = try x.withUnsafeBufferPointer { try TensorCodec.encode($0, as: .ggml(type), threads: 1) }
        // threads 1 runs one sequential range; 3 splits the tensor into 4 ranges run concurrently.
        let many = try x.withUnsafeBufferPointer { try TensorCodec.encode($0, as: .ggml(type), threads: 3) }
        #expect(one == many)
        let d1 = try one.withUnsafeBytes { try TensorCodec.decode($0, as: .ggml(type), count: x.count, threads: 1) }
        let d7 = try one.withUnsafeBytes { try TensorCodec.decode($0, as: .ggml(type), count: x.count, threads: 3) }
        #expect(S.firstBitMismatch(d1, d7) == nil)
    }

    @Test func plainFloatRoundTrips() throws {
        var rng = S.Rng(seed: 11)
        let x = (0..<4096).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        for type in [TensorType.ggml(.f32), .safetensors(.f32), .ggml(.f64), .safetensors(.f64)] {
            let back = try S.decode(try TensorCodec.encode(x, as: type), as: type, count: x.count)
            #expect(S.firstBitMismatch(back.map { $0.isNaN ? .nan : $0 }, x.map { $0.isNaN ? .nan : $0 }) == nil, "\(type)")
        }
        // F64 decoding rounds to nearest f32.
        let doubles: [Double] = [1 + 0x1p-24, 1 + 0x1p-24 + 0x1p-40, 1e300, -1e-300, .pi]
        let raw = doubles.flatMap { d in withUnsafeBytes(of: d.bitPattern.littleEndian) { Array($0) } }
        #expect(try S.decode(raw, as: .safetensors(.f64), count: 5) == [1, 1 + 0x1p-23, .infinity, -0.0, 3.14159274])
    }

    /// Arbitrary bytes (inf/NaN scales included) decode without trapping, for every decodable type.
    @Test("random bytes never trap the decoder", arguments: [GGMLType.f16, .bf16] + quantTypes)
    func randomBytesDecode(_ type: GGMLType) throws {
        var rng = S.Rng(seed: 0xdead_0000 &+ UInt64(type.rawValue))
        let count = type.blockSize * 64
        let bytes = (0..<type.byteCount(forValues: count)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        #expect(try S.decode(bytes, as: .ggml(type), count: count).count == count)
    }

    /// Finite values of every magnitude, from denormals to near FLT_MAX, either encode to blocks
    /// that decode to finite values or give `valueOutOfRange`; nothing traps.
    @Test("extreme magnitudes encode or fail cleanly", arguments: quantTypes)
    func extremeMagnitudes(_ type: GGMLType) throws {
        var rng = S.Rng(seed: 0xe000 &+ UInt64(type.rawValue))
        var encoded = 0, refused = 0
        for _ in 0..<200 {
            let exponent = Int(rng.next() % 250) - 148
            let spread = Int(rng.next() % 40)
            let x = (0..<type.blockSize).map { _ -> Float in
                let e = exponent - Int(rng.next() % UInt64(spread + 1))
                let v = Float(sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: max(-149, min(127, e)), significand: Float(1 + rng.uniform()))
                return v.isFinite ? v : .greatestFiniteMagnitude
            }
            do {
                let bytes = try TensorCodec.encode(x, as: .ggml(type))
                let y = try S.decode(bytes, as: .ggml(type), count: x.count)
                #expect(y.allSatisfy { $0.isFinite }, "\(type) exponent \(exponent) spread \(spread)")
                encoded += 1
            } catch TensorCodecError.valueOutOfRange(_, let index) {
                #expect(index == 0)
                refused += 1
            }
        }
        #expect(encoded > 50 && refused > 10, "\(type): \(encoded) encoded, \(refused) refused")
    }
}
