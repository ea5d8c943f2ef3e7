import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// `--continue` with fact lines computes the new facts against the chain's W₀: apply(first N lines)
/// then --continue(next M lines) gives the same model bytes, and a sidecar with the same tensors,
/// terms, restrained factors, hashes and fact records, as apply(all N + M lines) in one run — with
/// schedule `end` (new facts computed on W₀ + the unrestrained accumulated delta) and `each`
/// (computed on the restrained model), on a safetensors model and on a quantized GGUF (where the
/// edited file is not W₀ + ΔW̄ exactly, so nothing but the rebuilt W₀ can give the same bytes).
@Suite struct FactContinueTests {
    /// The first three rewrite requests of a fixture's requests.json, as rome lines.
    static func lines(_ model: String) throws -> [String] {
        let doc = try FactTest.json(try FactTest.fixture(model, "requests.json"))
        guard case .array(let all) = doc, all.count >= 3 else { throw FactTest.Failure("requests.json: no requests") }
        return try all.prefix(3).enumerated().map { i, r in
            guard let rw = r["requested_rewrite"], let p = rw["prompt"]?.stringValue, let s = rw["subject"]?.stringValue,
                  let t = rw["target_new"]?["str"]?.stringValue else { throw FactTest.Failure("request \(i): no rewrite") }
            let o: JSONNode = .object([JSONNodeMember(key: "id", value: .string("r\(i)")), JSONNodeMember(key: "kind", value: .string("rome")),
                                       JSONNodeMember(key: "prompt", value: .string(p)), JSONNodeMember(key: "subject", value: .string(s)),
                                       JSONNodeMember(key: "target", value: .string(t))])
            return o.serialized()
        }
    }

    static func write(_ lines: [String], _ path: String) throws {
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
    }

    static func apply(_ model: String, _ manifest: String, out: String, continueFrom: String? = nil, schedule: RestraintSchedule,
                      stats: String, cache: String) throws -> ApplyResult {
        var o = ApplyOptions()
        o.threads = 2
        o.schedule = schedule
        o.output = .uncompressed
        let h = try HyperparameterFile.parse(bytes: Array(FactApplyTests.hparams.utf8), name: "h.json")
        let engine = FactEngine(hparamsFile: h, statsText: stats, cache: StatisticsCache(folder: cache))
        return try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(out), sidecar: out + ".prune",
                                          continueFrom: continueFrom, options: o, facts: engine))
    }

    /// A fact record without what legitimately differs between the two runs: whether the statistics
    /// came from the cache, and (for the lines of the first run) the probability after, which a
    /// single run measures once all lines are in.
    static func normalized(_ node: JSONNode, dropAfter: Bool) -> JSONNode {
        switch node {
        case .object(let ms):
            return .object(ms.filter { $0.key != "cached" && !(dropAfter && $0.key == "probability_after") }
                .map { JSONNodeMember(key: $0.key, value: normalized($0.value, dropAfter: dropAfter)) })
        case .array(let a): return .array(a.map { normalized($0, dropAfter: dropAfter) })
        default: return node
        }
    }

    @Test(arguments: [("gpt2-tiny", "model.safetensors", RestraintSchedule.end), ("gpt2-tiny", "model.safetensors", .each),
                      ("llama-tiny", "model-q8_0.gguf", .end), ("llama-tiny", "model-q8_0.gguf", .each)])
    func continuingEqualsOneRun(model: String, weights: String, schedule: RestraintSchedule) throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try FactApplyTests.folder(model, into: dir, weights: weights)
        let lines = try Self.lines(model)
        let ext = weights.hasSuffix(".gguf") ? ".gguf" : ".safetensors"
        try Self.write(lines, dir + "/all.jsonl")
        try Self.write(Array(lines.prefix(2)), dir + "/first.jsonl")
        try Self.write(Array(lines.suffix(1)), dir + "/next.jsonl")
        let heldout = try FactTest.fixture(model, "heldout.txt")
        // The edited models sit beside the base's config and tokenizer (the runtime reads them there).
        let folder = dir + "/" + model
        let oneOut = folder + "/one" + ext, firstOut = folder + "/first" + ext, contOut = folder + "/continued" + ext
        _ = try Self.apply(path, dir + "/all.jsonl", out: oneOut, schedule: schedule, stats: heldout, cache: dir + "/cache-one")
        _ = try Self.apply(path, dir + "/first.jsonl", out: firstOut, schedule: schedule, stats: heldout, cache: dir + "/cache-chain")
        let r = try Self.apply(firstOut, dir + "/next.jsonl", out: contOut, continueFrom: firstOut + ".prune",
                               schedule: schedule, stats: heldout, cache: dir + "/cache-chain")
        #expect(r.factSummaries.count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: oneOut)) == Data(contentsOf: URL(fileURLWithPath: contOut)),
                "\(model) \(weights) \(schedule): the continued model differs from the single run's")
        let a = try Sidecar.read(path: oneOut + ".prune"), b = try Sidecar.read(path: contOut + ".prune")
        #expect(a.model == b.model)
        #expect(a.parameters == b.parameters)
        #expect(a.tensors == b.tensors, "raw terms, restrained factors or spectra differ")
        #expect(b.manifests.count == 2 && a.manifests.count == 1)
        #expect(a.edits.map(\.id) == b.edits.map(\.id) && a.edits.map(\.tensors) == b.edits.map(\.tensors))
        #expect(a.edits.count == 3 && b.edits.count == 3)
        for (i, (x, y)) in zip(a.edits, b.edits).enumerated() {
            let rx = try JSONNodeParser.parse(x.facts ?? []), ry = try JSONNodeParser.parse(y.facts ?? [])
            #expect(Self.normalized(rx, dropAfter: i < 2) == Self.normalized(ry, dropAfter: i < 2), "fact record of line \(i + 1) differs")
        }
    }

    /// Issue 18: an error about the model found while running --continue's rebuilt base names the
    /// user's files (the config beside the edited model), never the scratch folder of the base.
    @Test func continueErrorsNameTheModelsFiles() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let lines = try Self.lines("gpt2-tiny")
        try Self.write([lines[0]], dir + "/first.jsonl")
        try Self.write([lines[1]], dir + "/next.jsonl")
        let heldout = try FactTest.fixture("gpt2-tiny", "heldout.txt")
        let folder = dir + "/gpt2-tiny", first = folder + "/first.safetensors"
        _ = try Self.apply(path, dir + "/first.jsonl", out: first, schedule: .end, stats: heldout, cache: dir + "/cache")
        // A config the runtime refuses (3 heads do not divide the width 256), written after the first run.
        let config = folder + "/config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as! [String: Any]
        json["n_head"] = 3
        try FileManager.default.removeItem(atPath: config)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: config))
        do {
            _ = try Self.apply(first, dir + "/next.jsonl", out: folder + "/continued.safetensors", continueFrom: first + ".prune",
                               schedule: .end, stats: heldout, cache: dir + "/cache")
            Issue.record("a config with 3 heads of a width of 256 was accepted")
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            #expect(message.hasPrefix(first + ": cannot run the model for the fact lines (\(dir)/next.jsonl:1): \(config): "), "\(message)")
            #expect(message.contains("n_head") && !message.contains("prune-continue"), "\(message)")
        }
    }
}
