import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit
import PruneTokenizers

/// Statistics files: partial statistics over shards of a text add up to those of the whole text,
/// the file round-trips, and mismatched files are refused with their name.
@Suite struct KeyStatisticsTests {
    @Test func shardsMergeToTheWhole() throws {
        let net = try FactTest.network("gpt2-tiny")
        let tok = PruneFactsTestTokenizer.gpt2()
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = try String(contentsOfFile: try FactTest.fixture("gpt2-tiny", "heldout.txt"), encoding: .utf8)
            .split(separator: "\n").prefix(12).map(String.init)
        func stats(_ docs: [String]) throws -> KeyStatistics {
            let text = try StatisticsText.parse(bytes: Array(docs.joined(separator: "\n").utf8), path: "t")
            return try StatisticsComputer(model: net, tokenizer: tok, threads: 2)
                .compute(text: text, layer: 1, modelHash: "h", docTokens: 32, maxTokens: 0, maxDocuments: 1000)
        }
        let whole = try stats(lines), a = try stats(Array(lines[0..<5])), b = try stats(Array(lines[5...]))
        try KeyStatisticsFile.write(a, to: dir + "/a.stats")
        try KeyStatisticsFile.write(b, to: dir + "/b.stats")
        let exactOnly = try StatisticsJob.merge([dir + "/a.stats", dir + "/b.stats"])
        #expect(exactOnly.isExactOnly)
        let merged = exactOnly.materialized()
        #expect(merged.count == whole.count && merged.documents == whole.documents)
        let err = FactTest.relativeError(merged.sum.map(Float.init), whole.sum.map(Float.init))
        #expect(err < 1e-12 * 1e6, "relative difference \(err)")
        #expect(try KeyStatisticsFile.read(path: dir + "/a.stats", exact: true) == a)
        var other = b
        other.layer = 2
        try KeyStatisticsFile.write(other, to: dir + "/c.stats")
        #expect(throws: FactError.self) { try StatisticsJob.merge([dir + "/a.stats", dir + "/c.stats"]) }
        do { _ = try StatisticsJob.merge([dir + "/a.stats", dir + "/c.stats"]) } catch {
            #expect((error as? LocalizedError)?.errorDescription?.hasPrefix(dir + "/c.stats:") == true)
        }
    }

    /// An edit holds one m × m matrix of statistics: C is made in the sum's own buffer (the sum is
    /// given up), with the bits of sum[i] · (1 / count). Statistics held by their exact sum alone
    /// (no f64 matrix) write the file of the materialized ones, byte for byte.
    @Test func momentTakesTheSumsBuffer() throws {
        let net = try FactTest.network("gpt2-tiny")
        let lines = try String(contentsOfFile: try FactTest.fixture("gpt2-tiny", "heldout.txt"), encoding: .utf8)
            .split(separator: "\n").prefix(6).joined(separator: "\n")
        let text = try StatisticsText.parse(bytes: Array(lines.utf8), path: "t")
        let computer = StatisticsComputer(model: net, tokenizer: PruneFactsTestTokenizer.gpt2(), threads: 2)
        let exactOnly = try computer.compute(text: text, layer: 1, modelHash: "h", docTokens: 32, maxTokens: 0, maxDocuments: 1000,
                                             materialize: false)
        #expect(exactOnly.isExactOnly && exactOnly.sum.isEmpty && exactOnly.count > 0)
        var s = try computer.compute(text: text, layer: 1, modelHash: "h", docTokens: 32, maxTokens: 0, maxDocuments: 1000)
        #expect(s.exact == exactOnly.exact && s.count == exactOnly.count && s.sum.count == s.width * s.width)
        #expect(exactOnly.materialized().sum == s.sum && exactOnly.sha256 == s.sha256)
        #expect(try KeyStatisticsFile.encode(exactOnly) == KeyStatisticsFile.encode(s))
        let expected = s.sum.map { $0 * (1 / Double(s.count)) }
        let before = s.sum.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let c = s.takeMoment()
        #expect(s.sum.isEmpty)
        #expect(c.storage.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } == before)
        #expect(c.rows == s.width && c.cols == s.width)
        #expect(c.storage.map { $0.bitPattern } == expected.map { $0.bitPattern })
    }

    /// The spectrum's eigenvalues (values only, in the scaled copy's own buffer) agree with the
    /// eigen-decomposition with vectors (another LAPACK path: divide and conquer) within the bound of
    /// a backward-stable symmetric eigensolver, n·ε·‖A‖₂ each, taken 8× for the constants.
    @Test func eigenvaluesInPlaceAgreeWithTheDecomposition() throws {
        let n = 97
        var g = SplitMix64(seed: 11)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                let x = Double(g.next() % 2001) / 1000 - 1
                a[i * n + j] = x
                a[j * n + i] = x
            }
        }
        let (full, _) = try Matrix(rows: n, cols: n, values: a).symmetricEigen()
        var work = a
        let values = try Matrix.symmetricEigenvalues(overwriting: &work, n: n)
        #expect(values == values.sorted())
        let norm = full.map(\.magnitude).max() ?? 0
        let bound = 8 * 2 * Double(n) * Double.ulpOfOne * norm
        for (x, y) in zip(values, full.reversed()) { #expect(abs(x - y) <= bound, "\(x) vs \(y), bound \(bound)") }
    }
}

/// A tokenizer of the fixture for tests that need one but not the reference's exact ids.
enum PruneFactsTestTokenizer {
    static func gpt2() -> FactTokenizer {
        RuntimeTokenizer(try! PruneTokenizers.TokenizerLoader.load(path: try! FactTest.fixture("gpt2-tiny")))
    }
}
