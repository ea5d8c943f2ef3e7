import Foundation
@testable import PruneFormats
@testable import PruneKit

/// Paths, Python runner and data helpers for the tensor-codec tests.
enum QuantTestSupport {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixturesRoot: URL { URL(fileURLWithPath: TestEnvironment.fixtures) }

    /// Runs `python3 Tests/scripts/quant_reference.py args…`; throws with its stderr on failure.
    static func runReference(_ args: [String]) throws { try TestProcess.python("quant_reference.py", args) }

    static func makeTempDir(_ tag: String) throws -> URL { URL(fileURLWithPath: try TestEnvironment.tempDir("quant-" + tag)) }

    static func writeFloats(_ values: [Float], to url: URL) throws {
        let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
        try data.write(to: url)
    }

    static func readFloats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
        }
    }

    static func decode(_ bytes: [UInt8], as type: TensorType, count: Int) throws -> [Float] {
        try bytes.withUnsafeBytes { try TensorCodec.decode($0, as: type, count: count) }
    }

    /// Index of the first element whose bit pattern differs, or nil.
    static func firstBitMismatch(_ a: [Float], _ b: [Float]) -> Int? {
        guard a.count == b.count else { return Swift.min(a.count, b.count) }
        for i in a.indices where a[i].bitPattern != b[i].bitPattern { return i }
        return nil
    }

    static func rms(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in a.indices {
            let d = Double(a[i]) - Double(b[i])
            sum += d * d
        }
        return (sum / Double(max(1, a.count))).squareRoot()
    }

    /// A deterministic generator (SplitMix64) so failures reproduce.
    struct Rng {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
        mutating func normal() -> Float {
            let u1 = max(uniform(), 1e-300), u2 = uniform()
            return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
        }
    }

    /// Tensor fixtures dumped once per process by gguf-py: model name → file → tensors.
    struct DumpedTensor {
        let name: String
        let type: GGMLType
        let ne: [Int]
        let bytes: [UInt8]
        let referenceDequant: [Float]?
        var count: Int { ne.reduce(1, *) }
    }

    static func dump(model: String, file: String) throws -> [DumpedTensor] {
        let path = fixturesRoot.appendingPathComponent(model).appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: path.path) else {
            throw TestFailure("fixture missing: \(path.path)")
        }
        let dir = try makeTempDir("dump")
        defer { try? FileManager.default.removeItem(at: dir) }
        try runReference(["dump", path.path, dir.path])
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as? [[String: Any]] ?? []
        return try index.map { e in
            let typeName = e["type"] as? String ?? ""
            guard let type = GGMLType.allCases.first(where: { $0.description == typeName }) else {
                throw TestFailure("unknown type \(typeName)")
            }
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: e["data"] as? String ?? "")))
            let deq = try (e["dequant"] as? String).map { try readFloats(URL(fileURLWithPath: $0)) }
            return DumpedTensor(name: e["name"] as? String ?? "", type: type, ne: e["ne"] as? [Int] ?? [], bytes: bytes, referenceDequant: deq)
        }
    }
}
