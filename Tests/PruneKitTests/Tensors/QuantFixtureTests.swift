import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The codecs on the fixtures' real tensors: decode equality with gguf-py for every stored type,
/// byte equality with llama.cpp's Q8_0 and F16 files, and the K-quant error bound against
/// llama.cpp's Q4_K_M file.
@Suite("Tensor codecs on fixtures", .serialized) struct QuantFixtureTests {
    typealias S = QuantTestSupport
    static let models = ["gpt2-tiny", "llama-tiny"]

    static func values(_ t: S.DumpedTensor) throws -> [Float] {
        try S.decode(t.bytes, as: .ggml(t.type), count: t.count)
    }

    @Test("every stored tensor decodes like gguf-py", arguments: models)
    func decodeMatchesGGUFPy(_ model: String) throws {
        for file in ["model-f32.gguf", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"] {
            let tensors = try S.dump(model: model, file: file)
            #expect(!tensors.isEmpty)
            for t in tensors {
                let reference = try #require(t.referenceDequant, "gguf-py could not dequantize \(t.name) (\(t.type))")
                let ours = try Self.values(t)
                let bad = S.firstBitMismatch(ours, reference)
                #expect(bad == nil, "\(model)/\(file) \(t.name) [\(t.type)] differs at \(bad ?? -1)")
            }
        }
    }

    @Test("Q8_0 and F16 encodes reproduce llama.cpp's files byte for byte", arguments: models)
    func simpleTypesReproduceLlamaCpp(_ model: String) throws {
        let f32 = Dictionary(uniqueKeysWithValues: try S.dump(model: model, file: "model-f32.gguf").map { ($0.name, $0) })
        var compared = 0
        for file in ["model-q8_0.gguf", "model-f16.gguf"] {
            for t in try S.dump(model: model, file: file) where t.type == .q8_0 || t.type == .f16 {
                let source = try #require(f32[t.name], "\(t.name) missing from model-f32.gguf")
                let ours = try TensorCodec.encode(try Self.values(source), as: .ggml(t.type))
                #expect(ours == t.bytes, "\(model)/\(file) \(t.name) [\(t.type)]")
                compared += 1
            }
        }
        #expect(compared >= 30)
    }

    /// Our K-quant encoder against llama.cpp's Q4_K_M on the same f32 weights (issue 2: RMS ≤ 1.1×).
    @Test("K-quant RMS error within 1.1x of llama.cpp's Q4_K_M", arguments: models)
    func kQuantErrorWithinBound(_ model: String) throws {
        let f32 = Dictionary(uniqueKeysWithValues: try S.dump(model: model, file: "model-f32.gguf").map { ($0.name, $0) })
        var checked: [GGMLType: Int] = [:]
        var ratios: [GGMLType: [Double]] = [:]
        var identical: [GGMLType: Int] = [:], blocks: [GGMLType: Int] = [:]
        for t in try S.dump(model: model, file: "model-q4_k_m.gguf") where t.type.blockSize == 256 {
            let source = try #require(f32[t.name])
            let x = try Self.values(source)
            let theirs = try Self.values(t)
            let oursBytes = try TensorCodec.encode(x, as: .ggml(t.type))
            #expect(oursBytes.count == t.bytes.count)
            let ours = try S.decode(oursBytes, as: .ggml(t.type), count: x.count)
            #expect(ours.allSatisfy { $0.isFinite })
            try KQuantValidity.check(oursBytes, type: t.type)
            let ratio = S.rms(ours, x) / S.rms(theirs, x)
            #expect(ratio <= 1.1, "\(model) \(t.name) [\(t.type)]: RMS ratio \(ratio)")
            ratios[t.type, default: []].append(ratio)
            let bb = t.type.blockBytes
            identical[t.type, default: 0] += (0..<(t.bytes.count / bb)).filter { oursBytes[($0 * bb)..<($0 * bb + bb)] == t.bytes[($0 * bb)..<($0 * bb + bb)] }.count
            blocks[t.type, default: 0] += t.bytes.count / bb
            checked[t.type, default: 0] += 1
        }
        #expect((checked[.q4_K] ?? 0) > 5 && (checked[.q6_K] ?? 0) > 2)
        // Our encoder follows ggml's reference quantizer, so nearly every block is llama.cpp's own
        // (a compiler's FMA contraction in llama.cpp could flip a rare rounding).
        for (type, n) in blocks {
            #expect(Double(identical[type] ?? 0) >= 0.99 * Double(n), "\(model) \(type): \(identical[type] ?? 0)/\(n) blocks identical")
        }
        for (type, r) in ratios.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            print("[quant] \(model) \(type): \(r.count) tensors, RMS ratio ours/llama.cpp mean \(String(format: "%.4f", r.reduce(0, +) / Double(r.count))) max \(String(format: "%.4f", r.max() ?? 0)); blocks identical to llama.cpp's \(identical[type] ?? 0)/\(blocks[type] ?? 0)")
        }
    }

    /// The K-quants without a llama.cpp fixture (Q2_K, Q3_K, Q5_K) on the same weights: valid blocks
    /// and errors ordered by bit width, with Q5_K below llama.cpp's own Q4_K error.
    @Test("all K-quants: valid blocks, error ordered by bits", arguments: models)
    func kQuantLadder(_ model: String) throws {
        let f32 = Dictionary(uniqueKeysWithValues: try S.dump(model: model, file: "model-f32.gguf").map { ($0.name, $0) })
        var q4Fixture = 0.0, count = 0
        var totals: [GGMLType: Double] = [:]
        for t in try S.dump(model: model, file: "model-q4_k_m.gguf") where t.type == .q4_K {
            let x = try Self.values(try #require(f32[t.name]))
            let fixtureRMS = S.rms(try Self.values(t), x)
            q4Fixture += fixtureRMS
            count += 1
            var previous = Double.infinity
            for type in [GGMLType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K] {
                let bytes = try TensorCodec.encode(x, as: .ggml(type))
                try KQuantValidity.check(bytes, type: type)
                let y = try S.decode(bytes, as: .ggml(type), count: x.count)
                #expect(y.allSatisfy { $0.isFinite })
                let e = S.rms(y, x)
                #expect(e < previous, "\(model) \(t.name): \(type) RMS \(e) not below the narrower type's \(previous)")
                if type == .q5_K { #expect(e < 0.75 * fixtureRMS, "\(t.name): Q5_K \(e) vs llama.cpp Q4_K \(fixtureRMS)") }
                previous = e
                totals[type, default: 0] += e
            }
        }
        #expect(count > 5)
        let line = [GGMLType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K].map { "\($0) \(String(format: "%.3f", (totals[$0] ?? 0) / q4Fixture))" }
        print("[quant] \(model) mean RMS relative to llama.cpp Q4_K: " + line.joined(separator: ", "))
    }
}

/// Structural checks of written K-quant blocks.
enum KQuantValidity {
    struct Invalid: Error, CustomStringConvertible { let description: String }

    static func check(_ bytes: [UInt8], type: GGMLType) throws {
        let n = bytes.count / type.blockBytes
        guard n * type.blockBytes == bytes.count else { throw Invalid(description: "partial block") }
        func half(_ b: Int, _ o: Int) -> Float {
            HalfFloat.toFloat(UInt16(bytes[b * type.blockBytes + o]) | UInt16(bytes[b * type.blockBytes + o + 1]) << 8)
        }
        for b in 0..<n {
            let scales: [Float]
            switch type {
            case .q2_K: scales = [half(b, 80), half(b, 82)]
            case .q3_K: scales = [half(b, 108)]
            case .q4_K, .q5_K: scales = [half(b, 0), half(b, 2)]
            case .q6_K: scales = [half(b, 208)]
            default: scales = []
            }
            for s in scales where !s.isFinite {
                throw Invalid(description: "\(type) block \(b): non-finite scale \(s)")
            }
            // Affine types store d and dmin as non-negative magnitudes.
            if type == .q2_K || type == .q4_K || type == .q5_K, scales.contains(where: { $0 < 0 }) {
                throw Invalid(description: "\(type) block \(b): negative d/dmin \(scales)")
            }
        }
    }
}
