import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit
import PruneFacts

/// prune-adapter: a sidecar's restrained deltas as LoRA adapters. PEFT folders are read back by
/// prune's own PEFT reader (the `lora` manifest line) and must give the restrained deltas again;
/// llama.cpp adapters are checked with the Python `gguf` package against the model prune-apply wrote.
@Suite struct AdapterExportTests {
    static let samples = TestEnvironment.packageRoot.appendingPathComponent("samples").path

    static func options() -> ApplyOptions {
        var o = ApplyOptions()
        o.output = OutputOptions(compress: false, level: 3, threads: 0)
        return o
    }

    /// samples/edits.jsonl on `model`, then samples/more.jsonl continuing its chain: the sidecar of the chain.
    static func chain(_ model: String, in dir: String) throws -> String {
        _ = try Apply.run(ApplyRequest(model: model, manifest: samples + "/edits.jsonl", output: .file(dir + "/out1"),
                                       sidecar: dir + "/one.prune", options: options()))
        _ = try Apply.run(ApplyRequest(model: dir + "/out1", manifest: samples + "/more.jsonl", output: .file(dir + "/out2"),
                                       sidecar: dir + "/chain.prune", continueFrom: dir + "/one.prune", options: options()))
        return dir + "/chain.prune"
    }

    /// Element-wise |x − y| ≤ 16u·(|u₁||v₁|ᵀ + |u₂||v₂|ᵀ): both sides are products of f32 factors of the
    /// same matrix, each factor element rounded once (u = 2⁻²⁴), summed in float64.
    static func expectSameDelta(_ x: (u: [Float], v: [Float], rank: Int), _ y: (u: [Float], v: [Float], rank: Int),
                                rows: Int, cols: Int, tensor: String) throws {
        func dense(_ f: (u: [Float], v: [Float], rank: Int), abs: Bool) throws -> [Float] {
            try FactoredDelta(rows: rows, cols: cols, rank: f.rank, u: abs ? f.u.map { Swift.abs($0) } : f.u,
                              v: abs ? f.v.map { Swift.abs($0) } : f.v).dense(threads: 1)
        }
        let dx = try dense(x, abs: false), dy = try dense(y, abs: false)
        let bx = try dense(x, abs: true), by = try dense(y, abs: true)
        var worst = 0, excess = -Float.infinity
        for i in 0..<dx.count {
            let e = Swift.abs(dx[i] - dy[i]) - 16 * ArithmeticTolerance.unitRoundoff * (bx[i] + by[i])
            if e > excess { (worst, excess) = (i, e) }
        }
        #expect(excess <= 0, "\(tensor): element \(worst): \(dx[worst]) vs \(dy[worst])")
        #expect(dx.contains { $0 != 0 }, "\(tensor): zero delta")
    }

    /// Export → PEFT folder → `{"kind": "lora"}` manifest line → resolved on the base: the same restrained
    /// deltas as the sidecar, tensor by tensor, for a chain of two manifests (Conv1D weights included).
    @Test(arguments: ["gpt2-tiny/model.safetensors", "gpt2-tiny/model-f32.gguf", "gpt2-tiny/model-q8_0.gguf"])
    func peftRoundTripGivesTheRestrainedDeltas(_ rel: String) throws {
        let model = try TestEnvironment.fixture(rel)
        let dir = try TestEnvironment.tempDir("adapter-peft")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecarPath = try Self.chain(model, in: dir)
        let sidecar = try Sidecar.read(path: sidecarPath)
        #expect(sidecar.manifests.count == 2 && sidecar.tensors.count == 2)

        // A GGUF sidecar's names fit GPT-2 and Phi-3 (attn_qkv, ffn_down…): the base says which.
        let adapter = try AdapterExport.run(AdapterRequest(sidecar: sidecarPath, output: dir + "/peft",
                                                           base: rel.hasSuffix(".gguf") ? model : nil))
        #expect(adapter.format == .peft && adapter.fanInFanOut)
        #expect(Set(adapter.pairs.map(\.target)) == ["transformer.h.1.mlp.c_proj", "transformer.h.2.attn.c_attn"])
        // The rank is the restrained delta's, as the restraint engine recorded it.
        for p in adapter.pairs {
            let record = try #require(sidecar.tensors.first { $0.name == p.sidecarTensor })
            #expect(p.rank == record.restrained.rank && !p.truncated, "\(p.target)")
        }
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/peft/adapter_config.json"))) as? [String: Any])
        #expect(config["peft_type"] as? String == "LORA" && config["task_type"] as? String == "CAUSAL_LM")
        #expect(config["r"] as? Int == adapter.maxRank && config["lora_alpha"] as? Int == adapter.maxRank)
        #expect(config["fan_in_fan_out"] as? Bool == true)

        try Self.expectReadBack(dir + "/peft", in: dir, model: model, sidecar: sidecar, count: 2)
    }

    /// The PEFT adapter at `adapter` as a `lora` manifest line, resolved on `model` (the sidecar's): the
    /// sidecar's restrained deltas, tensor by tensor.
    static func expectReadBack(_ adapter: String, in dir: String, model: String, sidecar: Sidecar, count: Int) throws {
        let name = URL(fileURLWithPath: adapter).lastPathComponent
        FileManager.default.createFile(atPath: dir + "/back.jsonl", contents: Data("{\"kind\": \"lora\", \"adapter\": \"\(name)\"}\n".utf8))
        let resolved = try EditManifest.load(path: dir + "/back.jsonl").resolve(against: ModelDescription(file: ModelFile(path: model)))
        #expect(resolved.count == 1 && resolved[0].targets.count == count)
        for t in resolved[0].targets {
            let record = try #require(sidecar.tensors.first { $0.name == t.tensor }, "\(t.tensor) not in the sidecar")
            guard case .lowRank(let u, let v, let k) = t.delta else { Issue.record("not low-rank"); continue }
            #expect(t.rows == record.rows && t.cols == record.cols)
            try Self.expectSameDelta((u, v, k), (record.restrained.u, record.restrained.v, record.restrained.rank),
                                     rows: t.rows, cols: t.cols, tensor: t.tensor)
        }
    }

    /// Llama: the q/k rows llama.cpp permutes go back to the Hugging Face order in a PEFT adapter of a
    /// GGUF sidecar (the head count from --base), and prune's reader permutes them again on the GGUF model.
    @Test(arguments: [("llama-tiny/model-f32.gguf", "blk.0.attn_q.weight,blk.1.attn_k.weight,blk.1.ffn_gate.weight"),
                      ("llama-tiny/model.safetensors", "model.layers.1.self_attn.q_proj.weight,model.layers.0.self_attn.k_proj.weight")])
    func peftRoundTripOfLlama(_ c: (String, String)) throws {
        let model = try TestEnvironment.fixture(c.0)
        let dir = try TestEnvironment.tempDir("adapter-peft-llama")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestProcess.python("apply_make_manifest.py", [model, dir + "/edits.jsonl", "13", c.1])
        _ = try Apply.run(ApplyRequest(model: model, manifest: dir + "/edits.jsonl", output: .file(dir + "/out"),
                                       sidecar: dir + "/edits.prune", options: Self.options()))
        let adapter = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/peft", base: model))
        #expect(adapter.pairs.allSatisfy { $0.target.hasPrefix("model.layers.") } && !adapter.fanInFanOut)
        try Self.expectReadBack(dir + "/peft", in: dir, model: model, sidecar: try Sidecar.read(path: dir + "/edits.prune"),
                                count: c.1.split(separator: ",").count)
    }

    /// The adapter's tensors in the safetensors file: names, [r, in] / [out, r] shapes, F32, metadata.
    @Test func peftTensorsHaveTheLayerShapes() throws {
        let model = try TestEnvironment.fixture("gpt2-tiny/model.safetensors")
        let dir = try TestEnvironment.tempDir("adapter-shapes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecarPath = try Self.chain(model, in: dir)
        _ = try AdapterExport.run(AdapterRequest(sidecar: sidecarPath, output: dir + "/peft", base: model))
        let file = try ModelFile(path: dir + "/peft/adapter_model.safetensors")
        guard case .safetensors(let header) = file.header else { Issue.record("not safetensors"); return }
        let shapes = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.name, $0.shape) })
        let base = try ModelFile(path: model)
        // Conv1D weights are stored [in, out]: c_attn [64, 192] → A [r, 64], B [192, r].
        let attn = try #require(base.header.tensors.first { $0.name.hasSuffix("h.2.attn.c_attn.weight") })
        let a = try #require(shapes["base_model.model.transformer.h.2.attn.c_attn.lora_A.weight"])
        let b = try #require(shapes["base_model.model.transformer.h.2.attn.c_attn.lora_B.weight"])
        #expect(a[1] == attn.shape[0] && b[0] == attn.shape[1] && a[0] == b[1])
        #expect(shapes.count == 4)
    }

    /// A llama.cpp adapter: keys, names and shapes as src/llama-adapter.cpp expects them, and B·A equal
    /// to what prune-apply added to the F32 GGUF model (gguf package, numpy). Cross-format cases
    /// take the sidecar of the Hugging Face file and the GGUF file as --base: GPT-2's transposed
    /// Conv1D weights and Llama's permuted q/k rows.
    @Test(arguments: [
        ("gpt2-tiny/model-f32.gguf", "gpt2-tiny/model-f32.gguf", "blk.0.attn_qkv.weight,blk.1.ffn_down.weight,blk.1.attn_output.weight"),
        ("gpt2-tiny/model.safetensors", "gpt2-tiny/model-f32.gguf", "transformer.h.0.attn.c_attn.weight,transformer.h.1.mlp.c_fc.weight"),
        ("llama-tiny/model.safetensors", "llama-tiny/model-f32.gguf",
         "model.layers.0.self_attn.q_proj.weight,model.layers.1.self_attn.k_proj.weight,model.layers.0.mlp.down_proj.weight"),
        ("llama-tiny/model-f32.gguf", "llama-tiny/model-f32.gguf", "blk.0.attn_q.weight,blk.1.attn_k.weight,blk.1.ffn_gate.weight"),
    ])
    func ggufAdapterIsWhatApplyAdded(_ c: (String, String, String)) throws {
        let (sidecarModel, gguf) = (try TestEnvironment.fixture(c.0), try TestEnvironment.fixture(c.1))
        let dir = try TestEnvironment.tempDir("adapter-gguf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = dir + "/edits.jsonl"
        try TestProcess.python("apply_make_manifest.py", [sidecarModel, manifest, "11", c.2])
        _ = try Apply.run(ApplyRequest(model: sidecarModel, manifest: manifest, output: .file(dir + "/edited-src"),
                                       sidecar: dir + "/edits.prune", options: Self.options()))
        if sidecarModel != gguf {
            _ = try Apply.run(ApplyRequest(model: gguf, manifest: manifest, output: .file(dir + "/edited.gguf"),
                                           sidecar: dir + "/gguf.prune", options: Self.options()))
        } else {
            try FileManager.default.moveItem(atPath: dir + "/edited-src", toPath: dir + "/edited.gguf")
        }
        let cross = sidecarModel != gguf
        let adapter = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf", base: gguf))
        #expect(adapter.pairs.count == c.2.split(separator: ",").count)
        let check = try TestProcess.python("adapter_check_gguf.py", [dir + "/a.gguf", gguf, dir + "/edited.gguf"])
        // Ranks 1 and 2 in one adapter: alpha is 2 and the rank-1 pairs hold ΔW̄/2, which llama.cpp's
        // alpha/rank = 2 brings back (the script computes the delta with llama.cpp's rule).
        let folded = adapter.pairs.filter { $0.rank < adapter.maxRank }.count
        #expect(folded > 0 && adapter.maxRank == 2, "the case needs ranks that differ")
        #expect(check.stdoutText == "ok \(adapter.pairs.count) pairs 2 alpha 2 folded \(folded)\n", "\(check.stdoutText)")
        // prune reads it back as a GGUF file with the same keys.
        let file = try ModelFile(path: dir + "/a.gguf")
        guard case .gguf(let g) = file.header else { Issue.record("not GGUF"); return }
        #expect(g["general.type"]?.stringValue == "adapter" && g["adapter.type"]?.stringValue == "lora")
    }

    /// Llama q/k rows need the head count to cross formats: without --base, a one-line error naming the tensor.
    @Test func permutedRowsNeedTheBase() throws {
        let model = try TestEnvironment.fixture("llama-tiny/model.safetensors")
        let dir = try TestEnvironment.tempDir("adapter-needs-base")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestProcess.python("apply_make_manifest.py", [model, dir + "/edits.jsonl", "3", "model.layers.0.self_attn.q_proj.weight"])
        _ = try Apply.run(ApplyRequest(model: model, manifest: dir + "/edits.jsonl", output: .file(dir + "/out"),
                                       sidecar: dir + "/edits.prune", options: Self.options()))
        #expect(throws: AdapterError.self) {
            try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf"))
        }
        do { _ = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf")) } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            #expect(message.contains("give --base MODEL") && message.contains("model.layers.0.self_attn.q_proj.weight"), "\(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.gguf"))
        // The PEFT adapter of the same sidecar needs no base (same vocabulary, no permutation).
        let peft = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/peft"))
        #expect(peft.pairs.map(\.target) == ["model.layers.0.self_attn.q_proj"] && !peft.fanInFanOut)
        // The Hugging Face folder as --base gives the head count (config.json) and names the base in PEFT's config.
        let folder = try TestEnvironment.fixture("llama-tiny", "")
        let gguf = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf", base: folder))
        #expect(gguf.pairs.map(\.target) == ["blk.0.attn_q.weight"] && gguf.architecture == "llama")
        let named = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/peft2", base: folder))
        #expect(named.baseModel == folder)
    }

    /// A dense edit is refused (naming the edit and the tensor) unless --rank truncates it; then the
    /// residual is ‖ΔW̄‖ of the dropped singular values, and a wrong base is refused by name.
    @Test func denseEditsAndRankCap() throws {
        let model = try TestEnvironment.fixture("llama-tiny/model-f32.gguf")
        let dir = try TestEnvironment.tempDir("adapter-dense")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestProcess.python("apply_make_manifest.py", [model, dir + "/edits.jsonl", "5", "blk.0.attn_v.weight",
                                                          "--dense", "blk.1.attn_output.weight"])
        _ = try Apply.run(ApplyRequest(model: model, manifest: dir + "/edits.jsonl", output: .file(dir + "/out"),
                                       sidecar: dir + "/edits.prune", options: Self.options()))
        // Without a base, the GGUF names fit several families: one line says so and asks for --base.
        do {
            _ = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf"))
            Issue.record("an adapter of ambiguous names was written")
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            #expect(message.contains("fit several architectures (llama, mistral, qwen2") && message.contains("give --base MODEL"), "\(message)")
        }
        do {
            _ = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf", base: model))
            Issue.record("a dense edit was exported")
        } catch let e as AdapterError {
            guard case .denseTerm(_, let tensor, _) = e else { Issue.record("\(e)"); return }
            #expect(tensor == "blk.1.attn_output.weight")
            #expect(e.errorDescription?.contains("--rank") == true)
        }
        let capped = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/a.gguf", base: model, rank: 2))
        let dense = try #require(capped.pairs.first { $0.target == "blk.1.attn_output.weight" })
        #expect(dense.rank == 2 && dense.truncated && dense.residualNorm > 0)
        // The residual is the norm of what B·A leaves out of the stored restrained delta.
        let sidecar = try Sidecar.read(path: dir + "/edits.prune")
        let record = try #require(sidecar.tensors.first { $0.name == dense.sidecarTensor })
        let full = try FactoredDelta(rows: record.rows, cols: record.cols, rank: record.restrained.rank,
                                     u: record.restrained.u, v: record.restrained.v).dense(threads: 1)
        let bt = (0..<dense.outFeatures * dense.rank).map { dense.b[$0] }
        let at = (0..<dense.inFeatures).flatMap { j in (0..<dense.rank).map { k in dense.a[k * dense.inFeatures + j] } }
        let kept = try FactoredDelta(rows: dense.outFeatures, cols: dense.inFeatures, rank: dense.rank, u: bt, v: at).dense(threads: 1)
        let residual = zip(full, kept).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        #expect(Swift.abs(residual - dense.residualNorm) <= 1e-4 * dense.deltaNorm, "\(residual) vs \(dense.residualNorm)")
        // A base of another architecture does not hold the weights.
        #expect(throws: AdapterError.self) {
            try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/b.gguf",
                                                 base: try TestEnvironment.fixture("gpt2-tiny/model-f32.gguf"), rank: 2))
        }
    }

    /// The CLI: the tool writes the adapter, refuses an existing non-empty folder and an output that is an input.
    @Test func cliWritesAndRefuses() throws {
        let model = try TestEnvironment.fixture("gpt2-tiny/model.safetensors")
        let dir = try TestEnvironment.tempDir("adapter-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecarPath = try Self.chain(model, in: dir)
        let tool = try TestEnvironment.executable("prune-adapter")
        let ok = try TestProcess.run(tool, [sidecarPath, "-o", dir + "/peft"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stderr.contains("wrote PEFT adapter"))
        #expect(FileManager.default.fileExists(atPath: dir + "/peft/adapter_model.safetensors"))
        let again = try TestProcess.run(tool, [sidecarPath, "-o", dir + "/peft"])
        #expect(again.status == 1 && again.stderr.hasPrefix("prune-adapter: \(dir)/peft: exists"), "\(again.stderr)")
        let onInput = try TestProcess.run(tool, [sidecarPath, "-o", sidecarPath])
        #expect(onInput.status == 1 && onInput.stderr.contains("would overwrite an input"), "\(onInput.stderr)")
        let replay = try TestProcess.run(try TestEnvironment.executable("prune-apply"), [model, sidecarPath, "--adapter", dir + "/r.gguf"])
        #expect(replay.status == 1 && replay.stderr.contains("--adapter takes a manifest"), "\(replay.stderr)")
        let usage = try TestProcess.run(tool, [sidecarPath, "-o", dir + "/x.gguf", "--rank", "0"])
        #expect(usage.status == 64)
        let sub = try TestProcess.run(try TestEnvironment.executable("prune"), ["adapter", sidecarPath, "-o", dir + "/x.gguf"])
        #expect(sub.status == 0 && FileManager.default.fileExists(atPath: dir + "/x.gguf"), "\(sub.stderr)")
    }

    /// `prune-apply MODEL edits.jsonl --adapter OUT`: the sidecar and the adapter, no model; the adapter is the
    /// one prune-adapter writes from that sidecar with the model as --base, and the sidecar replays.
    @Test(arguments: ["peft", "a.gguf"]) func applyWritesOnlyTheAdapterAndTheSidecar(_ out: String) throws {
        let model = try TestEnvironment.fixture("llama-tiny/model.safetensors")
        let dir = try TestEnvironment.tempDir("adapter-apply")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestProcess.python("apply_make_manifest.py", [model, dir + "/edits.jsonl", "9",
                                                          "model.layers.0.self_attn.q_proj.weight,model.layers.1.mlp.up_proj.weight"])
        let apply = try TestEnvironment.executable("prune-apply")
        let r = try TestProcess.run(apply, [model, dir + "/edits.jsonl", "--adapter", dir + "/" + out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty, "a model went to standard output")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ([out, "edits.jsonl", "edits.prune"]).sorted())
        let again = try TestProcess.run(try TestEnvironment.executable("prune-adapter"),
                                        [dir + "/edits.prune", "-o", dir + "/again-" + out, "--base", model])
        #expect(again.status == 0, "\(again.stderr)")
        let files = out.hasSuffix(".gguf") ? [""] : ["/adapter_config.json", "/adapter_model.safetensors"]
        for f in files {
            let a = FileManager.default.contents(atPath: dir + "/" + out + f), b = FileManager.default.contents(atPath: dir + "/again-" + out + f)
            #expect(a != nil && a == b, "\(out)\(f) differs")
        }
        let replay = try TestProcess.run(apply, [model, dir + "/edits.prune", "-o", dir + "/replayed.safetensors"])
        #expect(replay.status == 0, "\(replay.stderr)")
    }

    /// A Hugging Face folder with -o: the edited folder, the sidecar and the adapter, which is what
    /// prune-adapter writes from that sidecar with the folder as the base; without -o, a clear refusal.
    @Test func applyOnAFolderWritesTheAdapterWithTheFolder() throws {
        let dir = try TestEnvironment.tempDir("adapter-folder")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/llama-tiny"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for f in ["model.safetensors", "config.json", "tokenizer.json", "tokenizer.model"] {
            try FileManager.default.copyItem(atPath: try TestEnvironment.fixture("llama-tiny/" + f), toPath: folder + "/" + f)
        }
        try TestProcess.python("apply_make_manifest.py", [folder + "/model.safetensors", dir + "/edits.jsonl", "9",
                                                          "model.layers.0.self_attn.q_proj.weight,model.layers.1.mlp.up_proj.weight"])
        let apply = try TestEnvironment.executable("prune-apply")
        let refused = try TestProcess.run(apply, [folder, dir + "/edits.jsonl", "--adapter", dir + "/peft"])
        #expect(refused.status == 1 && refused.stderr.contains("needs -o"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/peft") && !FileManager.default.fileExists(atPath: dir + "/edits.prune"))
        let r = try TestProcess.run(apply, [folder, dir + "/edits.jsonl", "-o", dir + "/edited", "--adapter", dir + "/peft"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/edited/model.safetensors.zst"))
        let again = try TestProcess.run(try TestEnvironment.executable("prune-adapter"),
                                        [dir + "/edits.prune", "-o", dir + "/again", "--base", folder])
        #expect(again.status == 0, "\(again.stderr)")
        for f in ["/adapter_config.json", "/adapter_model.safetensors"] {
            let a = FileManager.default.contents(atPath: dir + "/peft" + f), b = FileManager.default.contents(atPath: dir + "/again" + f)
            #expect(a != nil && a == b, "peft\(f) differs")
        }
    }

    /// A fact edit (samples/fact.jsonl: ROME on gpt2-tiny) through prune-apply's --adapter, with the model
    /// written too: the llama.cpp adapter's B·A is what the run added to the F32 GGUF model.
    @Test func romeEditAsAnAdapter() throws {
        let model = try TestEnvironment.fixture("gpt2-tiny/model-f32.gguf")
        let dir = try TestEnvironment.tempDir("adapter-rome")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hparams = try HyperparameterFile.load(path: Self.samples + "/hparams/rome-gpt2-tiny.json")
        let engine = FactEngine(hparamsFile: hparams, statsText: try TestEnvironment.fixture("gpt2-tiny", "heldout.txt"),
                                cache: StatisticsCache(folder: dir + "/cache"))
        var request = ApplyRequest(model: model, manifest: Self.samples + "/fact.jsonl", output: .file(dir + "/edited.gguf"),
                                   sidecar: dir + "/fact.prune", options: Self.options(), facts: engine)
        request.adapter = dir + "/rome.gguf"
        _ = try Apply.run(request)
        let sidecar = try Sidecar.read(path: dir + "/fact.prune")
        #expect(sidecar.edits.first?.kind == "rome" && sidecar.tensors.count == 1)
        let check = try TestProcess.python("adapter_check_gguf.py", [dir + "/rome.gguf", model, dir + "/edited.gguf"])
        #expect(check.stdoutText.hasPrefix("ok 1 pairs \(sidecar.tensors[0].restrained.rank)"), "\(check.stdoutText)")
    }

    /// A prune-diff sidecar of a quantized model records factors plus a forward residual: refused without
    /// --rank (naming the tensor), exported with it and marked as leaving the residual out.
    @Test func diffSidecarWithAForwardResidual() throws {
        let model = try TestEnvironment.fixture("gpt2-tiny/model-q8_0.gguf")
        let dir = try TestEnvironment.tempDir("adapter-diff")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Apply.run(ApplyRequest(model: model, manifest: Self.samples + "/edits.jsonl", output: .file(dir + "/edited.gguf"),
                                       sidecar: dir + "/edits.prune", options: Self.options()))
        let diff = try TestProcess.run(try TestEnvironment.executable("prune-diff"), [model, dir + "/edited.gguf", "--sidecar", dir + "/diff.prune"])
        #expect(diff.status == 0, "\(diff.stderr)")
        let record = try #require(try Sidecar.read(path: dir + "/diff.prune").tensors.first)
        #expect(record.forwardResidual != nil, "the Q8_0 diff replays exactly without a residual: the test needs another case")
        #expect(throws: AdapterError.forwardResidual(sidecar: dir + "/diff.prune", tensor: record.name, rank: record.restrained.rank)) {
            try AdapterExport.run(AdapterRequest(sidecar: dir + "/diff.prune", output: dir + "/a.gguf", base: model))
        }
        // (ffn_down alone does not tell gpt2 from llama: the base gives general.architecture.)
        let capped = try AdapterExport.run(AdapterRequest(sidecar: dir + "/diff.prune", output: dir + "/a.gguf", base: model, rank: 64))
        #expect(capped.pairs.count == 1 && capped.pairs[0].leavesForwardResidual && !capped.pairs[0].truncated)
    }
}

/// vLLM cannot run here (no GPU). What its LoRA loader checks on a PEFT folder (vllm/lora/peft_helper.py
/// PEFTHelper.from_dict / validate_legal, vllm/lora/lora_model.py from_local_checkpoint and
/// from_lora_tensors, vllm/lora/utils.py parse_fine_tuned_lora_name), asserted on the folder prune writes
/// for a Llama edit set of ranks 1 and 2.
@Suite struct AdapterVLLMTests {
    @Test func peftFolderPassesVLLMChecks() throws {
        let model = try TestEnvironment.fixture("llama-tiny/model.safetensors")
        let dir = try TestEnvironment.tempDir("adapter-vllm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestProcess.python("apply_make_manifest.py", [model, dir + "/edits.jsonl", "7",
                                                          "model.layers.0.self_attn.q_proj.weight,model.layers.1.mlp.up_proj.weight,model.layers.1.self_attn.o_proj.weight"])
        _ = try Apply.run(ApplyRequest(model: model, manifest: dir + "/edits.jsonl", output: .file(dir + "/out"),
                                       sidecar: dir + "/edits.prune", options: AdapterExportTests.options()))
        _ = try AdapterExport.run(AdapterRequest(sidecar: dir + "/edits.prune", output: dir + "/peft", base: model))
        // The folder holds adapter_model.safetensors (vLLM reads it before .bin / .pt).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/peft").sorted() == ["adapter_config.json", "adapter_model.safetensors"])
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/peft/adapter_config.json"))) as? [String: Any])
        // PEFTHelper's required fields: r, lora_alpha, target_modules.
        let r = try #require(config["r"] as? Int), alpha = try #require(config["lora_alpha"] as? Int)
        let targets = try #require(config["target_modules"] as? [String])
        // validate_legal: r ≤ the server's --max-lora-rank, at most 512 (LoRAConfig's largest allowed value).
        #expect(r >= 1 && r <= 512)
        // validate_legal / _validate_features: no modules_to_save, no DoRA, bias "none" (else bias_enabled).
        #expect(config["modules_to_save"] is NSNull && config["use_dora"] as? Bool == false && config["bias"] as? String == "none")
        // vLLM's one scaling for every module, lora_alpha / r (or / √r with use_rslora); it does not read
        // rank_pattern or alpha_pattern, which PEFT uses per module: both must give 1.
        #expect(config["use_rslora"] as? Bool == false && alpha == r, "vLLM would scale every module by \(alpha)/\(r)")
        let rankPattern = try #require(config["rank_pattern"] as? [String: Int]), alphaPattern = try #require(config["alpha_pattern"] as? [String: Int])
        #expect(rankPattern == alphaPattern && !rankPattern.isEmpty, "the case needs ranks that differ")

        let file = try ModelFile(path: dir + "/peft/adapter_model.safetensors")
        let base = try ModelFile(path: model)
        var modules = Set<String>()
        for t in file.tensors {
            // parse_fine_tuned_lora_name: base_model.model.<module>.lora_A.weight / lora_B.weight (no bias, no embeddings).
            let isA = t.name.hasSuffix(".lora_A.weight"), isB = t.name.hasSuffix(".lora_B.weight")
            #expect(t.name.hasPrefix("base_model.model.") && (isA || isB), "\(t.name)")
            let module = String(t.name.dropFirst("base_model.model.".count).dropLast(".lora_A.weight".count))
            modules.insert(module)
            // from_local_checkpoint: the module's last name must be one of the model's LoRA modules (Llama's
            // linear layers; q/k/v and gate/up are packed into qkv_proj and gate_up_proj, which take them).
            let last = String(module.split(separator: ".").last ?? "")
            #expect(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"].contains(last), "\(module)")
            // A float dtype vLLM casts to the model's; [rank, in] and [out, rank] of the base weight, rank ≤ r
            // (vLLM copies them into the first rows and columns of its max_lora_rank slots).
            #expect(t.type == .safetensors(.f32), "\(t.name)")
            let w = try #require(base.info(named: module + ".weight"))
            let rank = isA ? t.shape[0] : t.shape[1]
            #expect(rank >= 1 && rank <= r && (rankPattern[module] ?? r) == rank && (alphaPattern[module] ?? alpha) == rank, "\(t.name): rank \(rank)")
            #expect(isA ? t.shape[1] == w.shape[1] : t.shape[0] == w.shape[0], "\(t.name): \(t.shape) for a \(w.shape) weight")
        }
        // target_modules names exactly the adapted modules (PEFT matches them; vLLM goes by the tensors).
        #expect(Set(targets) == modules && modules.count == 3)
    }
}
