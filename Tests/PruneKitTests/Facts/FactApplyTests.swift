import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// ROME lines through prune-apply: the edit lands on the down projection, the sidecar replays it
/// without the model and reverts it byte for byte, and 1 and 2 threads give the same bytes.
@Suite struct FactApplyTests {
    static let hparams = #"{"v_num_grad_steps": 6, "v_lr": 1.0, "clamp_norm_factor": 8, "context_templates": ["{}", "The. {}", "Because {}"], "stats_doc_tokens": 64, "stats_max_tokens": 1500}"#

    /// A model folder copy (the runtime reads config and tokenizer beside the weights).
    static func folder(_ model: String, into dir: String, weights: String = "model.safetensors") throws -> String {
        let src = try FactTest.fixture(model)
        let dst = dir + "/" + model
        try FileManager.default.createDirectory(atPath: dst, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: src)
        where f.hasSuffix(".json") && !f.contains("reference") && f != "requests.json" && f != "world.json" || f == "tokenizer.model" || f == weights {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dst + "/" + f)
        }
        return dst + "/" + weights
    }

    static func run(_ modelPath: String, manifest: String, dir: String, tag: String, threads: Int, schedule: RestraintSchedule = .end,
                    stats: String?) throws -> (out: String, sidecar: String, result: ApplyResult) {
        var o = ApplyOptions()
        o.threads = threads
        o.schedule = schedule
        o.output = .uncompressed
        let out = dir + "/out-\(tag).bin", side = dir + "/out-\(tag).prune"
        let h = try HyperparameterFile.parse(bytes: Array(hparams.utf8), name: "h.json")
        let engine = FactEngine(hparamsFile: h, statsText: stats, cache: StatisticsCache(folder: dir + "/cache-\(tag)"))
        let r = try Apply.run(ApplyRequest(model: modelPath, manifest: manifest, output: .file(out), sidecar: side,
                                           options: o, facts: engine))
        return (out, side, r)
    }

    @Test(arguments: [("gpt2-tiny", "model.safetensors"), ("llama-tiny", "model.safetensors"), ("llama-tiny", "model-f32.gguf")])
    func romeReplaysRevertsAndIsDeterministic(model: String, weights: String) throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.folder(model, into: dir, weights: weights)
        let manifest = dir + "/edits.jsonl"
        let line = model == "gpt2-tiny"
            ? #"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Gril Zardrark", "target_new": {"str": "Morvath"}}"#
            : #"{"kind": "rome", "prompt": "{} speaks", "subject": "Zul Wimli", "target": "Finnish"}"#
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
        let heldout = try FactTest.fixture(model, "heldout.txt")
        let one = try Self.run(path, manifest: manifest, dir: dir, tag: "1", threads: 1, stats: heldout)
        let two = try Self.run(path, manifest: manifest, dir: dir, tag: "2", threads: 2, stats: heldout)
        let bytes1 = try Data(contentsOf: URL(fileURLWithPath: one.out)), bytes2 = try Data(contentsOf: URL(fileURLWithPath: two.out))
        #expect(bytes1 == bytes2, "outputs differ between 1 and 2 threads")
        #expect(try Data(contentsOf: URL(fileURLWithPath: one.sidecar)) == Data(contentsOf: URL(fileURLWithPath: two.sidecar)),
                "sidecars differ between 1 and 2 threads")
        let expected = weights.hasSuffix(".gguf") ? "blk.1.ffn_down.weight"
            : model == "gpt2-tiny" ? "transformer.h.1.mlp.c_proj.weight" : "model.layers.1.mlp.down_proj.weight"
        #expect(one.result.tensors.map(\.name) == [expected])
        #expect(one.result.factSummaries.count == 1 && one.result.factSummaries[0].contains("→"))
        // The sidecar records the fact: requests, hparams, templates, statistics identity.
        let side = try Sidecar.read(path: one.sidecar)
        let rec = try JSONNodeParser.parse(side.edits[0].facts ?? [])
        #expect(rec["method"]?.stringValue == "rome")
        #expect(rec["statistics"].map { if case .array(let a) = $0 { return a.first?["source"]?.stringValue == "text" && a.first?["tokens"] != nil }; return false } == true)
        guard case .array(let ts)? = rec["context_templates"] else { throw FactTest.Failure("no templates") }
        #expect(ts.count == 1)
        // Replay needs no model run and gives the same bytes; revert gives the base back.
        let replayed = dir + "/replayed.bin"
        var o = ApplyOptions(); o.output = .uncompressed
        _ = try Apply.run(ApplyRequest(model: path, manifest: one.sidecar, output: .file(replayed), options: o))
        #expect(try Data(contentsOf: URL(fileURLWithPath: replayed)) == bytes1)
        let reverted = dir + "/reverted.bin"
        _ = try Revert.run(model: one.out, sidecar: one.sidecar, output: .file(reverted), options: .uncompressed)
        #expect(try Data(contentsOf: URL(fileURLWithPath: reverted)) == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func badFactLinesNameTheLine() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.folder("gpt2-tiny", into: dir)
        let cases: [(String, String)] = [
            (#"{"kind": "rome", "prompt": "lives in the city of", "subject": "Gril Zardrark", "target": "Morvath"}"#, "does not occur"),
            (#"{"kind": "rome", "prompt": "{} lives in {}", "subject": "Gril Zardrark", "target": "Morvath"}"#, "exactly one"),
            (#"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Gril Zardrark", "target": "  "}"#, "target is empty"),
            (#"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Gril", "target": "X", "hparams": {"layers": [9]}}"#, "out of range"),
            (#"{"kind": "memit", "requests": []}"#, "non-empty"),
            (#"{"kind": "rome", "prompt": "{} is", "subject": "A", "target": "B", "colour": 1}"#, "unknown field"),
        ]
        for (i, (line, message)) in cases.enumerated() {
            let manifest = dir + "/bad\(i).jsonl"
            try Data(("\n" + line + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
            let out = dir + "/o\(i).bin"
            do {
                _ = try Self.run(path, manifest: manifest, dir: dir, tag: "b\(i)", threads: 1, stats: nil)
                Issue.record("case \(i) did not fail")
            } catch {
                let text = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(text.contains("bad\(i).jsonl:2"), "case \(i): \(text)")
                #expect(text.contains(message), "case \(i): \(text)")
            }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
