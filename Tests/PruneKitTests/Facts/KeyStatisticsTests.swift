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
        let merged = try StatisticsJob.merge([dir + "/a.stats", dir + "/b.stats"])
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
}

/// A tokenizer of the fixture for tests that need one but not the reference's exact ids.
enum PruneFactsTestTokenizer {
    static func gpt2() -> FactTokenizer {
        RuntimeTokenizer(try! PruneTokenizers.TokenizerLoader.load(path: try! FactTest.fixture("gpt2-tiny")))
    }
}
