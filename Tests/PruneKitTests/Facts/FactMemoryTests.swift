import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit
@testable import PruneRuntime

/// What a fact edit holds in memory (issue 20): the model's weights stay the mapped, stored ones
/// (only the edited down projections become f32 matrices of their own), and key statistics are held
/// only for the layers of the line being computed.
@Suite struct FactMemoryTests {
    /// The sessions seen after each fact line.
    final class Seen: @unchecked Sendable {
        let lock = NSLock()
        var sessions: [FactSession] = []
        func add(_ s: FactSession) { lock.withLock { sessions.append(s) } }
    }

    static func apply(_ model: String, lines: [String], dir: String, stats: String?) throws -> [FactSession] {
        let manifest = dir + "/edits.jsonl"
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: manifest))
        var o = ApplyOptions()
        o.threads = 2
        o.output = .uncompressed
        let seen = Seen()
        var engine = FactEngine(hparamsFile: try HyperparameterFile.parse(bytes: Array(FactApplyTests.hparams.utf8), name: "h.json"),
                                statsText: stats, cache: StatisticsCache(folder: dir + "/cache"))
        engine.afterLine = { seen.add($0) }
        _ = try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(dir + "/out.gguf"), sidecar: dir + "/out.prune",
                                       options: o, facts: engine))
        return seen.sessions
    }

    /// Every weight matrix of the model, by a readable place.
    static func matrices(_ w: ModelWeights) -> [(String, WeightMatrix)] {
        var out: [(String, WeightMatrix)] = [("token embedding", w.tokenEmbedding), ("output", w.output)]
        for (l, layer) in w.layers.enumerated() {
            for role in MatrixRole.allCases { if let m = layer.matrix(role) { out.append(("blk.\(l) \(role.rawValue)", m)) } }
        }
        return out
    }

    /// A ROME line and a MEMIT line over two layers on a Q8_0 GGUF: after each, every matrix but the
    /// edited down projections is the very object the runtime mapped from the file (no copy, no f32
    /// decode), and each edited one is a single f32 matrix.
    @Test func factEditsKeepTheStoredWeights() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try FactApplyTests.folder("llama-tiny", into: dir, weights: "model-q8_0.gguf")
        let sessions = try Self.apply(path, lines: [
            #"{"kind": "rome", "prompt": "{} speaks", "subject": "Zul Wimli", "target": "Finnish", "hparams": {"layers": [1]}}"#,
            #"{"kind": "memit", "requests": [{"prompt": "{} speaks", "subject": "Zul Wimli", "target": "Finnish"}, {"prompt": "{} lives in", "subject": "Gril Zardrark", "target": "Morvath"}], "hparams": {"layers": [2, 3]}}"#,
        ], dir: dir, stats: try FactTest.fixture("llama-tiny", "heldout.txt"))
        #expect(sessions.count == 2)
        let editedAfter: [Set<Int>] = [[1], [1, 2, 3]]
        for (s, edited) in zip(sessions, editedAfter) {
            #expect(Set(s.edited.keys) == edited)
            let base = Dictionary(uniqueKeysWithValues: Self.matrices(s.base.transformer.weights))
            #expect(s.base.transformer.weights === s.loaded.transformer.weights)
            for (place, m) in Self.matrices(s.model.transformer.weights) {
                let isEdited = edited.contains { place == "blk.\($0) \(MatrixRole.mlpDown.rawValue)" }
                guard let original = base[place] else { Issue.record("\(place): not in the loaded model"); continue }
                #expect(original.storedType == "Q8_0", "\(place): the loaded model holds \(original.storedType), not the file's Q8_0")
                if isEdited {
                    #expect(m !== original && m.storedType == "F32", "\(place): the edited matrix is not an f32 matrix of its own")
                } else {
                    #expect(m === original, "\(place): a copy of the stored matrix after the edit")
                }
            }
        }
    }

    /// Statistics are held for the layers of the line being computed only: a ROME line at layer 1
    /// (C factored in place: the factor, no C beside it), a MEMIT line at layer 0 (layer 1's factor
    /// released, layer 0's C held), then ROME at layer 1 again (C read again from the cache: the same
    /// factor as the first line's).
    @Test func statisticsAreHeldOnlyForTheLayersBeingEdited() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try FactApplyTests.folder("llama-tiny", into: dir, weights: "model-q8_0.gguf")
        let sessions = try Self.apply(path, lines: [
            #"{"kind": "rome", "prompt": "{} speaks", "subject": "Zul Wimli", "target": "Finnish", "hparams": {"layers": [1]}}"#,
            #"{"kind": "memit", "requests": [{"prompt": "{} lives in", "subject": "Gril Zardrark", "target": "Morvath"}], "hparams": {"layers": [0]}}"#,
            #"{"kind": "rome", "prompt": "{} speaks", "subject": "Mab Quorrel", "target": "Finnish", "hparams": {"layers": [1]}}"#,
        ], dir: dir, stats: try FactTest.fixture("llama-tiny", "heldout.txt"))
        #expect(sessions.count == 3)
        let moments = sessions.map { Set($0.statistics.filter { $0.value.moment != nil }.keys) }
        let factors = sessions.map { Set($0.romeFactors.keys) }
        #expect(moments == [[], [0], []], "layers holding C after each line: \(moments)")
        #expect(factors == [[1], [], [1]], "layers holding ROME's factor after each line: \(factors)")
        // The C read again gives the factor the first line computed.
        let first = sessions[0].romeFactors[1]?.factor, third = sessions[2].romeFactors[1]?.factor
        #expect(first != nil && first == third)
        #expect(first?.count == 768 * 768)
    }
}
