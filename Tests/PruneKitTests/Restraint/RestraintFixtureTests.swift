import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// σ_max and the restraint on the trained weights of the shared fixtures (gpt2-tiny, llama-tiny),
/// against Tests/scripts/restraint_fixture_reference.py (float64 numpy, full SVDs).
@Suite struct RestraintFixtureTests {
    struct Tensor: Decodable { let model: String; let name: String; let rows: Int; let cols: Int; let file: String; let sigma_max: Double }
    struct Case: Decodable {
        let model: String; let name: String; let rows: Int; let cols: Int; let w0: String; let rank: Int
        let a: String; let b: String; let expected: String; let numerical_rank: Int; let restrained: Int
    }
    struct Index: Decodable { let tensors: [Tensor]; let restraint: [Case] }

    /// The reference index and every file the script wrote, read into memory.
    struct Reference: Sendable {
        let index: Index
        let files: [String: Data]
    }

    /// Generated once per test process into its own UUID-named folder, read into memory, and the
    /// folder removed at once: tests share only this immutable value, never a file or a folder.
    static let reference: Result<Reference, any Error> = Result {
        let fixtures = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"]
            ?? RestraintTestSupport.packageRoot.appendingPathComponent("../shared/fixtures").standardized.path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prune-restraint-fixtures-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try RestraintTestSupport.runPython("restraint_fixture_reference.py", [fixtures, dir.path])
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: dir.appendingPathComponent("fixtures.json")))
        var files: [String: Data] = [:]
        for name in index.tensors.map(\.file) + index.restraint.flatMap({ [$0.w0, $0.a, $0.b, $0.expected] }) {
            files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return Reference(index: index, files: files)
    }

    let index: Index
    let files: [String: Data]

    init() throws {
        let r = try Self.reference.get()
        index = r.index
        files = r.files
    }

    func data(_ f: String) throws -> Data {
        guard let d = files[f] else { throw RestraintTestSupport.ScriptFailure(description: "reference file \(f) missing") }
        return d
    }

    func floats(_ f: String) throws -> [Float] {
        try data(f).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test func sigmaMaxOfEveryTrainedMatrix() throws {
        #expect(index.tensors.count >= 30)
        #expect(Set(index.tensors.map(\.model)) == ["gpt2-tiny", "llama-tiny"])
        for t in index.tensors {
            let est = try RestraintEngine.sigmaMax(weights: try floats(t.file), rows: t.rows, cols: t.cols, tensor: t.name)
            let rel = abs(est.sigmaMax - t.sigma_max) / t.sigma_max
            #expect(rel <= 1e-6, "\(t.model) \(t.name): rel error \(rel)")
            #expect(rel <= 1e-8, "\(t.model) \(t.name): rel error \(rel) (bound \(est.errorBound / est.sigmaMax))")
        }
    }

    @Test func restraintOnTrainedWeights() throws {
        #expect(index.restraint.count == 2)
        for c in index.restraint {
            let w0 = try floats(c.w0)
            let s = try RestraintEngine.sigmaMax(weights: w0, rows: c.rows, cols: c.cols).sigmaMax
            let d = try LowRankDelta(rows: c.rows, cols: c.cols, rank: c.rank, a: try floats(c.a), b: try floats(c.b))
            let r = try RestraintEngine.restrain(edits: [.lowRank(d)], rows: c.rows, cols: c.cols, sigmaMax: s,
                                                 configuration: RestraintConfiguration(function: .log(base: M_E)), tensor: c.name)
            let expected = try data(c.expected).withUnsafeBytes {
                Array($0.bindMemory(to: Double.self))
            }
            let err = RestraintTestSupport.relativeFrobenius(r.delta.dense().storage, expected)
            #expect(err <= 1e-4, "\(c.model): rel Frobenius \(err)")
            #expect(r.report.numericalRank == c.numerical_rank && r.report.restrainedCount == c.restrained)
            // The edited weights materialised from the f32 factors are within f32 rounding of the reference.
            var w = w0
            try r.factored.add(to: &w)
            var num = 0.0, den = 0.0
            for i in 0..<w.count {
                let want = Double(w0[i]) + expected[i]
                num += (Double(w[i]) - want) * (Double(w[i]) - want); den += expected[i] * expected[i]
            }
            #expect((num / den).squareRoot() <= 1e-4)
        }
    }
}
