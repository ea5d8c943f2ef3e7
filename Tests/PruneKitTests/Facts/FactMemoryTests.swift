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

    /// Statistics are held for the layers of the line being computed only: a line at layer 1, then
    /// one at layer 0 (layer 1's C released, its record kept), then layer 1 again (read again from
    /// the cache: the same C as the first line's).
    @Test func statisticsAreHeldOnlyForTheLayersBeingEdited() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try FactApplyTests.folder("llama-tiny", into: dir, weights: "model-q8_0.gguf")
        let line = { (layer: Int, subject: String) in
            #"{"kind": "rome", "prompt": "{} speaks", "subject": ""# + subject + #"", "target": "Finnish", "hparams": {"layers": ["# + "\(layer)]}}"
        }
        let sessions = try Self.apply(path, lines: [line(1, "Zul Wimli"), line(0, "Gril Zardrark"), line(1, "Mab Quorrel")], dir: dir,
                                      stats: try FactTest.fixture("llama-tiny", "heldout.txt"))
        #expect(sessions.count == 3)
        let held = sessions.map { Set($0.statistics.filter { $0.value.moment != nil }.keys) }
        #expect(held == [[1], [0], [1]], "layers holding C after each line: \(held)")
        #expect(Set(sessions[1].released.keys) == [1] && Set(sessions[2].released.keys) == [0])
        // The reread C is the one the first line computed.
        let first = sessions[0].statistics[1]?.moment?.storage, third = sessions[2].statistics[1]?.moment?.storage
        #expect(first != nil && first == third)
    }
}
