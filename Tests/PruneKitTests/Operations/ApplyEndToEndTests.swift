import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// prune-apply → check against numpy → revert → replay, on every fixture format and type.
@Suite(.serialized) struct ApplyEndToEndTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var model: String          // relative to the fixtures, or "variant:<file>" for a made variant
        var tensors: [String]
        var dense: String?
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "llama safetensors F32", model: "llama-tiny/model.safetensors",
             tensors: ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"],
             dense: "model.layers.0.self_attn.k_proj.weight"),
        Case(label: "gpt2 safetensors F32 (Conv1D)", model: "gpt2-tiny/model.safetensors",
             tensors: ["transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_fc.weight"], dense: nil),
        Case(label: "llama safetensors F16", model: "variant:model-f16.safetensors",
             tensors: ["model.layers.0.self_attn.o_proj.weight", "model.layers.1.mlp.up_proj.weight"], dense: nil),
        Case(label: "llama safetensors BF16", model: "variant:model-bf16.safetensors",
             tensors: ["model.layers.0.self_attn.o_proj.weight", "model.layers.1.mlp.up_proj.weight"], dense: nil),
        Case(label: "llama GGUF F32", model: "llama-tiny/model-f32.gguf",
             tensors: ["blk.0.attn_output.weight", "blk.1.ffn_gate.weight"], dense: "blk.0.attn_v.weight"),
        Case(label: "gpt2 GGUF F16 (transposed Conv1D)", model: "gpt2-tiny/model-f16.gguf",
             tensors: ["blk.0.attn_output.weight", "blk.1.ffn_up.weight"], dense: "blk.1.attn_output.weight"),
        Case(label: "llama GGUF F16", model: "llama-tiny/model-f16.gguf",
             tensors: ["blk.1.attn_output.weight", "blk.0.ffn_down.weight"], dense: nil),
        Case(label: "llama GGUF Q8_0", model: "llama-tiny/model-q8_0.gguf",
             tensors: ["blk.0.attn_output.weight", "blk.1.ffn_down.weight"], dense: nil),
        Case(label: "llama GGUF Q4_K", model: "llama-tiny/model-q4_k_m.gguf",
             tensors: ["blk.0.attn_output.weight", "blk.1.ffn_gate.weight"], dense: nil),
    ]

    /// The model of a case: a fixture, or for "variant:<file>" an F16/BF16 copy of the llama
    /// safetensors model made in the test's own folder `dir` (no folder is shared between tests).
    static func modelPath(_ c: Case, in dir: String) throws -> String {
        guard c.model.hasPrefix("variant:") else { return ApplyTestSupport.fixture(c.model) }
        let r = try ApplyTestSupport.python("apply_make_variants.py", [ApplyTestSupport.fixture("llama-tiny/model.safetensors"), dir])
        guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "apply_make_variants.py: \(r.stderr)"]) }
        return dir + "/" + c.model.dropFirst(8)
    }

    static func makeManifest(_ c: Case, model: String, dir: String, seed: Int, prefix: String = "edit",
                             name: String = "edits.jsonl") throws -> String {
        let path = dir + "/" + name
        var args = [model, path, String(seed), c.tensors.joined(separator: ","), "--prefix", prefix]
        if let d = c.dense { args += ["--dense", d] }
        let r = try ApplyTestSupport.python("apply_make_manifest.py", args)
        #expect(r.status == 0, "\(r.stderr)")
        return path
    }

    static func options(threads: Int = 0, compress: Bool = true) -> ApplyOptions {
        var o = ApplyOptions()
        o.threads = threads
        o.output = OutputOptions(compress: compress, level: 3, threads: threads)
        return o
    }

    @Test(arguments: cases) func applyCheckRevertReplay(_ c: Case) throws {
        let dir = try ApplyTestSupport.scratch("e2e")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.modelPath(c, in: dir)
        #expect(FileManager.default.fileExists(atPath: model), "missing fixture \(model)")
        let manifest = try Self.makeManifest(c, model: model, dir: dir, seed: 7)

        // 1. Uncompressed output; the sidecar goes to the default place.
        let r = try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(dir + "/out.raw"),
                                           options: Self.options(compress: false)))
        #expect(r.sidecarPath == dir + "/edits.prune")
        #expect(r.tensors.count == c.tensors.count + (c.dense == nil ? 0 : 1))
        #expect(r.largestSigmaBefore > r.largestSigmaAfter, "the strong edits must be restrained")

        // 2. Independent numpy reference: edited tensors = W₀ + restrained ΔW; others untouched.
        let check = try ApplyTestSupport.python("apply_check.py", [model, dir + "/out.raw", dir + "/edits.prune", manifest])
        #expect(check.status == 0, "\(check.stdout.suffix(800)) \(check.stderr)")
        let dump = try ApplyTestSupport.python("apply_sidecar_dump.py", [dir + "/edits.prune"])
        #expect(dump.status == 0, "\(dump.stderr)")

        // 3. Compressed output, 1 thread vs 2 threads: byte-identical outputs and sidecars.
        try FileManager.default.moveItem(atPath: dir + "/edits.prune", toPath: dir + "/a.prune")
        _ = try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(dir + "/t1.zst"),
                                       sidecar: dir + "/t1.prune", options: Self.options(threads: 1)))
        _ = try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(dir + "/t2.zst"),
                                       sidecar: dir + "/t2.prune", options: Self.options(threads: 2)))
        let a = ApplyTestSupport.bytes(dir + "/a.prune")
        #expect(!a.isEmpty)
        #expect(ApplyTestSupport.bytes(dir + "/t1.prune") == a)
        #expect(ApplyTestSupport.bytes(dir + "/t2.prune") == a)
        #expect(ApplyTestSupport.bytes(dir + "/t1.zst") == ApplyTestSupport.bytes(dir + "/t2.zst"))
        try ApplyTestSupport.unzstd(dir + "/t1.zst", to: dir + "/t1.raw")
        #expect(ApplyTestSupport.bytes(dir + "/t1.raw") == ApplyTestSupport.bytes(dir + "/out.raw"))

        // 4. Revert gives the base back byte for byte (from the compressed output).
        let rv = try Revert.run(model: dir + "/t1.zst", sidecar: dir + "/a.prune", output: .file(dir + "/base.back"),
                                options: .uncompressed)
        #expect(Set(rv.tensors) == Set(r.tensors.map(\.name)))
        #expect(ApplyTestSupport.bytes(dir + "/base.back") == ApplyTestSupport.bytes(model))

        // 5. Replay from the sidecar reproduces the output bit for bit.
        let rp = try Apply.run(ApplyRequest(model: model, manifest: dir + "/a.prune", output: .file(dir + "/replay.raw"),
                                            options: Self.options(compress: false)))
        #expect(rp.mode == .replay)
        #expect(ApplyTestSupport.bytes(dir + "/replay.raw") == ApplyTestSupport.bytes(dir + "/out.raw"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.prune.prune"))
    }

    @Test(arguments: [cases[0], cases[6]]) func continuationEqualsSingleRun(_ c: Case) throws {
        let dir = try ApplyTestSupport.scratch("cont")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.modelPath(c, in: dir)
        let m1 = try Self.makeManifest(c, model: model, dir: dir, seed: 1, prefix: "first", name: "m1.jsonl")
        // The second manifest edits one tensor again and one new tensor.
        let newTensor = c.model.hasSuffix(".gguf") ? "blk.2.ffn_up.weight" : "model.layers.2.mlp.up_proj.weight"
        let second = Case(label: "", model: c.model, tensors: [c.tensors[1], newTensor], dense: nil)
        let m2 = try Self.makeManifest(second, model: model, dir: dir, seed: 2, prefix: "second", name: "m2.jsonl")
        let all = dir + "/all.jsonl"
        FileManager.default.createFile(atPath: all, contents: Data(ApplyTestSupport.bytes(m1) + ApplyTestSupport.bytes(m2)))
        let o = Self.options(compress: false)

        let single = try Apply.run(ApplyRequest(model: model, manifest: all, output: .file(dir + "/single.raw"), options: o))
        _ = try Apply.run(ApplyRequest(model: model, manifest: m1, output: .file(dir + "/step1.raw"), options: o))
        let cont = try Apply.run(ApplyRequest(model: dir + "/step1.raw", manifest: m2, output: .file(dir + "/step2.raw"),
                                              continueFrom: dir + "/m1.prune", options: o))
        #expect(cont.mode == .continuation)
        #expect(ApplyTestSupport.bytes(dir + "/step2.raw") == ApplyTestSupport.bytes(dir + "/single.raw"))
        // The chain's sidecar covers both manifests and records the same restrained deltas.
        let s = try Sidecar.read(path: dir + "/m2.prune")
        #expect(s.manifests.map(\.name) == ["m1.jsonl", "m2.jsonl"])
        #expect(s.edits.count == single.sidecar.edits.count)
        #expect(s.model.baseSHA256 == single.sidecar.model.baseSHA256)
        #expect(s.model.outputSHA256 == single.sidecar.model.outputSHA256)
        #expect(s.tensors.map(\.restrained) == single.sidecar.tensors.map(\.restrained))
        #expect(s.tensors.map(\.terms) == single.sidecar.tensors.map(\.terms))
        // Reverting the chain gives the original base; numpy agrees with the chain's result.
        _ = try Revert.run(model: dir + "/step2.raw", sidecar: dir + "/m2.prune", output: .file(dir + "/back"), options: .uncompressed)
        #expect(ApplyTestSupport.bytes(dir + "/back") == ApplyTestSupport.bytes(model))
        let check = try ApplyTestSupport.python("apply_check.py", [model, dir + "/step2.raw", dir + "/m2.prune", m1, m2])
        #expect(check.status == 0, "\(check.stdout.suffix(800))")
        // Continuing from the wrong model is refused, and writes nothing.
        #expect(throws: ApplyError.self) {
            try Apply.run(ApplyRequest(model: model, manifest: m2, output: .file(dir + "/bad.raw"), sidecar: dir + "/bad.prune",
                                       continueFrom: dir + "/m1.prune", options: o))
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.raw"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.prune"))
    }

    @Test func linearEachAndNoneMatchNumpy() throws {
        let model = ApplyTestSupport.fixture("llama-tiny/model.safetensors")
        let dir = try ApplyTestSupport.scratch("sched")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Self.cases[0]
        let m = try Self.makeManifest(Case(label: "", model: c.model, tensors: [c.tensors[0], c.tensors[0], c.tensors[1]], dense: nil),
                                      model: model, dir: dir, seed: 3)
        for (restraint, schedule, alpha) in [("linear", "end", M_E), ("log", "each", 2.0), ("none", "end", M_E)] {
            var o = Self.options(compress: false)
            o.restraint = restraint == "linear" ? .linear : restraint == "none" ? .none : .log(base: alpha)
            o.schedule = schedule == "each" ? .each : .end
            _ = try Apply.run(ApplyRequest(model: model, manifest: m, output: .file(dir + "/out"), sidecar: dir + "/s.prune", options: o))
            let check = try ApplyTestSupport.python("apply_check.py", [model, dir + "/out", dir + "/s.prune", m,
                "--restraint", restraint, "--alpha", "\(alpha)", "--schedule", schedule])
            #expect(check.status == 0, "\(restraint)/\(schedule): \(check.stdout.suffix(600))")
            let s = try Sidecar.read(path: dir + "/s.prune")
            #expect(s.parameters == Sidecar.Parameters(restraint: restraint, alpha: alpha, schedule: schedule, kappa: false))
        }
    }

    @Test func kappaIsRecordedAndMatchesNumpy() throws {
        let model = ApplyTestSupport.fixture("llama-tiny/model.safetensors")
        let dir = try ApplyTestSupport.scratch("kappa")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Self.cases[0]
        let m = try Self.makeManifest(Case(label: "", model: c.model, tensors: [c.tensors[0]], dense: nil),
                                      model: model, dir: dir, seed: 9)
        var o = Self.options(compress: false)
        o.kappa = true
        _ = try Apply.run(ApplyRequest(model: model, manifest: m, output: .file(dir + "/out"), options: o))
        let s = try Sidecar.read(path: dir + "/edits.prune")
        #expect(s.parameters.kappa)
        #expect(s.tensors.first?.kappa?.count == 3)
        let check = try ApplyTestSupport.python("apply_check.py", [model, dir + "/out", dir + "/edits.prune", m])
        #expect(check.status == 0, "\(check.stdout.suffix(600))")
    }

    /// The reference check is not vacuous: a differently restrained output fails it.
    @Test func referenceCheckCatchesAWrongOutput() throws {
        let dir = try ApplyTestSupport.scratch("tamper")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ApplyTestSupport.fixture("llama-tiny/model.safetensors")
        let m = try Self.makeManifest(Self.cases[0], model: model, dir: dir, seed: 4)
        var o = Self.options(compress: false)
        o.restraint = .none   // the output is W₀ + raw ΔW, but the check expects the log restraint
        _ = try Apply.run(ApplyRequest(model: model, manifest: m, output: .file(dir + "/out"), options: o))
        let check = try ApplyTestSupport.python("apply_check.py", [model, dir + "/out", dir + "/edits.prune", m])
        #expect(check.status != 0)
    }
}
