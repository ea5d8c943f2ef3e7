import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit
import PruneRuntime

/// Helpers of the fact-engine tests.
enum FactTest {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixtures: String { TestEnvironment.fixtures }
    typealias Failure = TestFailure

    /// A fixture file or folder; a missing fixture is a failure, never a skip.
    static func fixture(_ model: String, _ file: String = "") throws -> String { try TestEnvironment.fixture(model, file) }

    static func tempDir() throws -> String { try TestEnvironment.tempDir("facts") }

    /// Every tensor of a safetensors file, decoded to f32 (integers too).
    static func tensors(_ path: String) throws -> [String: [Float]] {
        let f = try SafetensorsFile(path: path)
        var out: [String: [Float]] = [:]
        for t in f.tensors {
            out[t.name] = try f.withData(for: t.name) { raw -> [Float] in
                if t.type == .safetensors(.i64) {
                    return (0..<t.elementCount).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                }
                return try TensorCodec.decode(raw, as: t.type, count: t.elementCount)
            }
        }
        return out
    }

    static func json(_ path: String) throws -> JSONNode {
        try JSONNodeParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    static func number(_ n: JSONNode?) -> Double? {
        if case .number(let t)? = n { return Double(t) }
        return nil
    }

    static func ints(_ n: JSONNode?) -> [Int] {
        guard case .array(let a)? = n else { return [] }
        return a.compactMap { number($0).map { Int($0) } }
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "sizes \(a.count) vs \(b.count)")
        var num = 0.0, den = 0.0
        for i in 0..<a.count { num = max(num, Double(abs(a[i] - b[i]))); den = max(den, Double(abs(b[i]))) }
        return num / max(den, 1e-30)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<a.count { ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i]) }
        return ab / (aa.squareRoot() * bb.squareRoot())
    }

    static func norm(_ a: [Float]) -> Double { a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

    /// Loaded fixture models (the runtime's `LanguageModel`), shared read-only between tests
    /// (loading is deterministic; edits make new transformers, never change these).
    nonisolated(unsafe) static var cache: [String: LanguageModel] = [:]
    static let lock = NSLock()
    static func network(_ model: String) throws -> FactModel {
        lock.lock(); defer { lock.unlock() }
        if let m = cache[model] { return FactModel(m) }
        let m = try LanguageModel.load(try fixture(model), options: LoadOptions(threads: 2, tokenizer: .skip))
        cache[model] = m
        return FactModel(m)
    }
}
