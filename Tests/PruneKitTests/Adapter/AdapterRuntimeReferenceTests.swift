import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit
@testable import PruneRuntime
import PruneFacts

/// What the engines compute with prune's adapters, recorded once by the engines themselves
/// (Resources/adapter-reference: transformers + PEFT by Tests/scripts/adapter_peft_reference.py,
/// llama.cpp by Tests/scripts/adapter_llamacpp_reference.py; CI runs neither), checked against prune's
/// runtime on the model prune-apply rewrites with the same edits. The adapter recomputed here is not
/// compared by digest: its last bits follow the OpenBLAS kernels of the machine (the scripts record the
/// digest of theirs, for the record); the logits and log-probabilities are the check.
@Suite struct AdapterRuntimeReferenceTests {
    static func resource(_ name: String) -> String { TestEnvironment.resource("adapter-reference/" + name) }
    static let samples = TestEnvironment.packageRoot.appendingPathComponent("samples").path

    static func options() -> ApplyOptions {
        var o = ApplyOptions()
        o.output = OutputOptions(compress: false, level: 3, threads: 0)
        return o
    }

    /// The logits at the last position of each prompt.
    static func lastLogits(_ model: LanguageModel, _ prompts: [[Int32]]) throws -> [[Float]] {
        let r = try model.transformer.forward(prompts, logits: .last)
        return prompts.indices.map { r.logits(sequence: $0).values }
    }

    struct Top: Decodable { let ids: [Int]; let logits: [Double]? ; let logprobs: [Double]? }

    struct PEFTDocument: Decodable {
        struct Prompt: Decodable {
            let text: String
            let ids: [Int32]
            let adapter: Top
            let base: Top
            let moved: Double
        }
        struct Model: Decodable {
            let model: String
            let manifest: String
            let adapter_tensors_sha256: String
            let prompts: [Prompt]
        }
        let models: [Model]
    }

    /// transformers + PEFT with prune's PEFT adapter on the untouched fixture, against prune's runtime on
    /// the model prune-apply rewrote with the same manifest: the recorded top-20 logits at the last position
    /// within the arithmetic tolerance of two f32 evaluations of the network (ArithmeticTolerance: the two
    /// differ in the order of their sums, and the rewritten model rounds W + ΔW̄ once more, which is one
    /// more rounding of the same size in each sum). With the adapter disabled, PEFT gives what prune's
    /// runtime gives on the base, within the same tolerance.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func peftLogitsAreThoseOfTheRewrittenModel(_ name: String) throws {
        let doc = try JSONDecoder().decode(PEFTDocument.self, from: Data(contentsOf: URL(fileURLWithPath: Self.resource("peft.json"))))
        let ref = try #require(doc.models.first { $0.model == name })
        let dir = try TestEnvironment.tempDir("adapter-peft-reference")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try TestEnvironment.fixture(name, "")
        try FileManager.default.createDirectory(atPath: dir + "/edited", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/config.json", toPath: dir + "/edited/config.json")
        var request = ApplyRequest(model: folder + "/model.safetensors", manifest: Self.resource(ref.manifest),
                                   output: .file(dir + "/edited/model.safetensors"), sidecar: dir + "/edits.prune",
                                   options: Self.options())
        request.adapter = dir + "/peft"
        _ = try Apply.run(request)
        // The adapter's bits depend on the OpenBLAS kernels of the restraint's SVD, so its digest
        // (recorded as adapter_tensors_sha256) is not compared: the logits below are the check.

        let edited = try LanguageModel.load(dir + "/edited", options: LoadOptions(threads: 1))
        let base = try LanguageModel.load(folder, options: LoadOptions(threads: 1))
        let ids = ref.prompts.map(\.ids)
        let (e, b) = (try Self.lastLogits(edited, ids), try Self.lastLogits(base, ids))
        for (i, p) in ref.prompts.enumerated() {
            for (model, got, top, what) in [(edited, e[i], p.adapter, "base + adapter (PEFT) vs the rewritten model"),
                                            (base, b[i], p.base, "adapter disabled (PEFT) vs the base")] {
                let tolerance = ArithmeticTolerance.forward(model.config, positions: p.ids.count, values: got)
                let logits = try #require(top.logits)
                var worst: Float = 0
                for (id, value) in zip(top.ids, logits) { worst = max(worst, abs(got[id] - Float(value))) }
                #expect(worst <= tolerance, "\(name) \(p.text.debugDescription): \(what): logits differ by \(worst), tolerance \(tolerance)")
                #expect(top.ids.first == got.indices.max(by: { got[$0] < got[$1] }), "\(name) \(p.text.debugDescription): \(what): another top token")
            }
            // The edit shows far beyond the tolerance (else the comparison could not tell the adapter from none).
            let tolerance = ArithmeticTolerance.forward(edited.config, positions: p.ids.count, values: e[i])
            #expect(Float(p.moved) > 100 * tolerance, "\(name) \(p.text.debugDescription): the edit moves logits by \(p.moved) only")
        }
    }

    struct LlamaDocument: Decodable {
        struct Adapter: Decodable { let manifest: String; let tensors_sha256: String }
        struct Row: Decodable {
            let id: String
            let text: String
            let ids: [Int32]
            let target: Int
            let target_rank: Int
            let target_logprob: Double
            let top: Top
        }
        let adapters: [Adapter]
        let runs: [String: [Row]]
    }

    /// log softmax in float64.
    static func logProbs(_ logits: [Float]) -> [Double] {
        let m = Double(logits.max() ?? 0)
        let z = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
        let lse = m + Foundation.log(z)
        return logits.map { Double($0) - lse }
    }

    /// llama.cpp on llama-tiny's F32 GGUF: with no adapter, and with each of two adapters of two one-fact ROME
    /// edit sets, one at a time. prune's runtime on the model prune-apply rewrote with each edit set (and on
    /// the base for no adapter) gives the recorded top-20 log-probabilities within the 0.05 the issue states,
    /// and the target token at the rank llama.cpp gave it. Each adapter gives its own edit in llama.cpp: its
    /// fact's target gains more than 1 nat over the base (the default log restraint keeps these edits small
    /// on the tiny model: 2.4 and 3.4 nats, the target second), the other adapter's fact moves by less than
    /// 0.25.
    @Test func llamaCppLogProbsAreThoseOfTheRewrittenModels() throws {
        let doc = try JSONDecoder().decode(LlamaDocument.self, from: Data(contentsOf: URL(fileURLWithPath: Self.resource("llamacpp.json"))))
        let gguf = try TestEnvironment.fixture("llama-tiny/model-f32.gguf")
        let dir = try TestEnvironment.tempDir("adapter-llamacpp-reference")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hparams = try HyperparameterFile.load(path: Self.samples + "/hparams/rome-llama-tiny.json")
        var models: [String: LanguageModel] = ["none": try LanguageModel.load(gguf, options: LoadOptions(threads: 1))]
        for a in doc.adapters {
            let engine = FactEngine(hparamsFile: hparams, statsText: try TestEnvironment.fixture("llama-tiny", "heldout.txt"),
                                    cache: StatisticsCache(folder: dir + "/cache"))
            let stem = dir + "/" + a.manifest.replacingOccurrences(of: ".jsonl", with: "")
            var request = ApplyRequest(model: gguf, manifest: Self.resource(a.manifest), output: .file(stem + ".edited.gguf"),
                                       sidecar: stem + ".prune", options: Self.options(), facts: engine)
            request.adapter = stem + ".gguf"
            _ = try Apply.run(request)
            // Not compared by digest (its bits depend on the OpenBLAS kernels): the log-probabilities are the check.
            models[a.manifest] = try LanguageModel.load(stem + ".edited.gguf", options: LoadOptions(threads: 1))
        }
        #expect(Set(doc.runs.keys) == Set(models.keys))
        let edits = Dictionary(uniqueKeysWithValues: try doc.adapters.map { a in
            (a.manifest, try String(contentsOfFile: Self.resource(a.manifest), encoding: .utf8))
        })
        for (label, rows) in doc.runs.sorted(by: { $0.key < $1.key }) {
            let model = try #require(models[label])
            let logits = try Self.lastLogits(model, rows.map(\.ids))
            for (i, row) in rows.enumerated() {
                let lp = Self.logProbs(logits[i])
                let logprobs = try #require(row.top.logprobs)
                var worst = 0.0
                for (id, value) in zip(row.top.ids, logprobs) { worst = max(worst, abs(lp[id] - value)) }
                #expect(worst <= 0.05, "\(label) \(row.text.debugDescription): log-probabilities differ from llama.cpp's by \(worst)")
                let rank = lp.indices.filter { lp[$0] > lp[row.target] }.count
                #expect(rank == row.target_rank, "\(label) \(row.text.debugDescription): the target is at rank \(rank) here, \(row.target_rank) in llama.cpp")
                guard label != "none", let base = doc.runs["none"]?.first(where: { $0.id == row.id }) else { continue }
                let own = (edits[label] ?? "").contains("\"\(row.id)\"")
                let gain = row.target_logprob - base.target_logprob
                #expect(own ? gain > 1 : abs(gain) < 0.25, "\(label) \(row.text.debugDescription): llama.cpp moves the target by \(gain) nats")
            }
        }
    }
}
