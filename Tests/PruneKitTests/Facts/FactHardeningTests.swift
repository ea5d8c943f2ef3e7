import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit
@testable import PruneRuntime
import PruneTokenizers

/// What a hostile run found in the fact engine (issue 18, section 3): inputs past the model's
/// context, a config's activation, several ROME layers, the statistics cache, statistics files given
/// to an edit, too few tokens for C, a damaged statistics file, a deeply nested YAML.
@Suite struct FactHardeningTests {
    static let gpt2Line = #"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Gril Zardrark", "target": "Morvath"}"#
    static let llamaLine = #"{"kind": "rome", "prompt": "{} speaks", "subject": "Zul Wimli", "target": "Finnish"}"#
    static let quick = #""v_num_grad_steps": 2, "v_lr": 1.0, "clamp_norm_factor": 8, "stats_doc_tokens": 64"#

    /// One prune-apply run of `line` with the hyperparameters `hparams` (JSON), on a copy of the
    /// fixture in `dir`.
    static func apply(_ model: String, line: String, hparams: String, dir: String, stats: String?, tag: String = "run",
                      cache: String? = nil) throws -> (out: String, sidecar: String, result: ApplyResult) {
        let path = dir + "/" + model + "/model.safetensors"
        if !FileManager.default.fileExists(atPath: path) { _ = try FactApplyTests.folder(model, into: dir) }
        let manifest = dir + "/edits-\(tag).jsonl"
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
        var o = ApplyOptions()
        o.threads = 2
        o.output = .uncompressed
        let out = dir + "/out-\(tag).bin", side = dir + "/out-\(tag).prune"
        let h = try HyperparameterFile.parse(bytes: Array(hparams.utf8), name: dir + "/h.json")
        let engine = FactEngine(hparamsFile: h, statsText: stats, cache: StatisticsCache(folder: cache ?? dir + "/cache-\(tag)"))
        let r = try Apply.run(ApplyRequest(model: path, manifest: manifest, output: .file(out), sidecar: side, options: o, facts: engine))
        return (out, side, r)
    }

    /// The message of the error `body` throws ("" when it throws none).
    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        return ""
    }

    // MARK: 1. Context templates and prompts past the context

    @Test func templatesLongerThanTheContextAreRefused() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // gpt2-tiny has 128 positions: a generated template of 120 tokens plus the prompt does not fit.
        let generated = Self.message {
            _ = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: "{\(Self.quick), \"mom2_adjustment\": false, \"context_template_length_params\": [[120, 1]]}",
                               dir: dir, stats: nil)
        }
        #expect(generated.hasPrefix(dir + "/edits-run.jsonl:1: "), "\(generated)")
        #expect(generated.contains("context_template_length_params") && generated.contains(dir + "/h.json")
                && generated.contains("[120, 1]") && generated.contains("context of 128 tokens"), "\(generated)")
        // A length past the context is refused as a hyperparameter, naming the file and the key.
        let past = Self.message {
            _ = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: "{\"context_template_length_params\": [[200, 1]]}", dir: dir, stats: nil)
        }
        #expect(past == "\(dir)/h.json: hyperparameter context_template_length_params: length 200 is longer than the model's context of 128 tokens",
                "\(past)")
        // Llama: an explicit template that does not fit (it used to run past the context silently).
        let long = Array(repeating: "word", count: 200).joined(separator: " ") + ". {}"
        let explicit = Self.message {
            _ = try Self.apply("llama-tiny", line: Self.llamaLine, hparams: "{\(Self.quick), \"mom2_adjustment\": false, \"context_templates\": [\"{}\", \"\(long)\"]}",
                               dir: dir, stats: nil)
        }
        #expect(explicit.hasPrefix(dir + "/edits-run.jsonl:1: template 2 ") && explicit.contains("context_templates")
                && explicit.contains("context of 128 tokens"), "\(explicit)")
        // A prompt that alone does not fit names its line.
        let prompt = Array(repeating: "word", count: 200).joined(separator: " ") + " {} speaks"
        let tooLong = Self.message {
            _ = try Self.apply("llama-tiny", line: #"{"kind": "rome", "prompt": "\#(prompt)", "subject": "Zul Wimli", "target": "Finnish"}"#,
                               hparams: "{\(Self.quick), \"mom2_adjustment\": false, \"context_templates\": [\"{}\"]}", dir: dir, stats: nil)
        }
        #expect(tooLong.hasPrefix(dir + "/edits-run.jsonl:1: the prompt is too long for the model's context of 128 tokens"), "\(tooLong)")
    }

    // MARK: 2. The config's activation

    /// A GPT-2 folder whose config.json says `relu`: the fact engine runs the runtime's transformer,
    /// so its hidden states ARE the runtime's: the packed run the methods read (block output and key
    /// at every layer) and the optimisation's forward above a layer equal the runtime's forward bit
    /// for bit, and the keys are relu of the pre-activations (gelu would leave negative keys).
    @Test func factEngineRunsTheRuntimesNetwork() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let config = dir + "/gpt2-tiny/config.json"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"gelu_new\"", with: "\"relu\"")
        #expect(text.contains("\"relu\""))
        try Data(text.utf8).write(to: URL(fileURLWithPath: config))
        let model = try LanguageModel.load(path, options: LoadOptions(threads: 1))
        #expect(model.config.activation == .relu)
        let fact = FactModel(model)
        let prompts: [[Int32]] = [[5, 71, 300, 1200, 45, 999, 2048, 17, 3000, 64], [9, 18, 27, 36, 45]]
        let hooks = ForwardHooks()
        for l in 0..<model.config.layerCount {
            hooks.capture(.blockOutput(layer: l))
            hooks.capture(.mlpKey(layer: l))
        }
        let runtime = try model.transformer.forward(prompts, logits: .all, hooks: hooks)
        var negatives = 0
        for l in 0..<model.config.layerCount {
            let run = try PackedRun(model: fact, sequences: prompts, through: l, threads: 2)
            #expect(run.groups.count == 1)
            #expect(run.groups[0].output == hooks.captured(.blockOutput(layer: l)), "block \(l) output")
            #expect(run.groups[0].mlpKey == hooks.captured(.mlpKey(layer: l)), "block \(l) key")
            let pre = run.groups[0].preActivation.values, key = run.groups[0].mlpKey.values
            #expect(key == pre.map { max(0, $0) }, "block \(l): the keys are not relu of the pre-activations")
            negatives += pre.filter { $0 < 0 }.count
        }
        #expect(negatives > 0, "no negative pre-activation: relu and gelu would not differ")
        // Above a layer, from the residual stream the packed run saved (as the optimisation runs it).
        let below = try PackedRun(model: fact, sequences: prompts, through: 1, threads: 2)
        let above = try fact.on(threads: 2).forward(residual: below.groups[0].output, layout: runtime.layout, fromBlock: 2, logits: .all)
        #expect(above.logits == runtime.logits)
    }

    // MARK: 3. ROME on several layers

    @Test func romeEditsEveryListedLayer() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hp = "{\(Self.quick), \"layers\": [1, 2], \"mom2_adjustment\": false, \"context_templates\": [\"{}\", \"The. {}\"]}"
        let r = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: nil)
        #expect(r.result.tensors.map(\.name).sorted() == ["transformer.h.1.mlp.c_proj.weight", "transformer.h.2.mlp.c_proj.weight"])
        let base = try FactTest.tensors(dir + "/gpt2-tiny/model.safetensors"), out = try FactTest.tensors(r.out)
        for l in 0..<4 {
            let name = "transformer.h.\(l).mlp.c_proj.weight"
            let changed = base[name] != out[name]
            #expect(changed == (l == 1 || l == 2), "layer \(l) changed: \(changed)")
        }
        let side = try Sidecar.read(path: r.sidecar)
        let rec = try JSONNodeParser.parse(side.edits[0].facts ?? [])
        #expect(FactTest.ints(rec["layers"]) == [1, 2])
        guard case .array(let reqs)? = rec["requests"], case .array(let per)? = reqs.first?["per_layer"] else {
            throw FactTest.Failure("no per-layer record")
        }
        #expect(per.compactMap { FactTest.number($0["layer"]).map(Int.init) } == [1, 2])
        // Layer 2's update is computed on the model with layer 1's applied (as ROME's execute_rome):
        // it differs from the single-layer edit of layer 2 on the base model.
        let two = try Self.apply("gpt2-tiny", line: Self.gpt2Line,
                                 hparams: "{\(Self.quick), \"layers\": [2], \"mom2_adjustment\": false, \"context_templates\": [\"{}\", \"The. {}\"]}",
                                 dir: dir, stats: nil, tag: "two")
        let alone = try FactTest.tensors(two.out)
        #expect(alone["transformer.h.2.mlp.c_proj.weight"] != out["transformer.h.2.mlp.c_proj.weight"])
    }

    // MARK: 4. The statistics cache

    static func statistics(_ text: String, network: FactModel, tokenizer: FactTokenizer, hash: String) throws -> KeyStatistics {
        let t = try StatisticsText.parse(bytes: Array(text.utf8), path: "t")
        return try StatisticsComputer(model: network, tokenizer: tokenizer, threads: 2)
            .compute(text: t, layer: 1, modelHash: hash, docTokens: 32, maxTokens: 0, maxDocuments: 1000)
    }

    @Test func cacheEntriesAreKeyedAndVerified() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let net = try FactTest.network("gpt2-tiny")
        let tok = PruneFactsTestTokenizer.gpt2()
        let hash = try StatisticsIdentity.modelHash(net, layer: 1)
        let lines = try String(contentsOfFile: try FactTest.fixture("gpt2-tiny", "heldout.txt"), encoding: .utf8).split(separator: "\n")
        let textA = lines.prefix(4).joined(separator: "\n"), textB = lines.dropFirst(4).prefix(4).joined(separator: "\n")
        let tokenizer = try TokenizerLoader.identity(path: try FactTest.fixture("gpt2-tiny"))
        func key(_ text: String, tokenizer: String) -> StatisticsCache.Key {
            StatisticsCache.Key(modelHash: hash, network: StatisticsIdentity.networkHash(net.config), tokenizer: tokenizer, layer: 1,
                                textSHA256: SHA256Hasher.hex(Array(text.utf8)), docTokens: 32, maxTokens: 0, maxDocuments: 1000,
                                arithmetic: BLASCore.name)
        }
        let cache = StatisticsCache(folder: dir + "/cache")
        let a = try Self.statistics(textA, network: net, tokenizer: tok, hash: hash)
        let keyA = key(textA, tokenizer: tokenizer)
        #expect(a.sources.first?.textSHA256 == keyA.textSHA256)
        #expect(cache.store(a, key: keyA))
        guard case .hit(let back) = cache.load(keyA) else { throw FactTest.Failure("the stored entry is not found") }
        // The cache gives C for an edit: the sum without its exact form (read only for a merge).
        var expected = a
        expected.exact = nil
        #expect(back == expected && a.exact != nil)
        // An entry of text A under text B's name (what trusting file names allowed): not used.
        let keyB = key(textB, tokenizer: tokenizer)
        try FileManager.default.copyItem(atPath: cache.path(keyA), toPath: cache.path(keyB))
        guard case .rejected(let whyText) = cache.load(keyB) else { throw FactTest.Failure("an entry of another text was used") }
        #expect(whyText.contains("another model, tokenizer, text"), "\(whyText)")
        // Another tokenizer (a copy of the folder whose tokenizer.json differs) has another identity.
        _ = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let tj = dir + "/gpt2-tiny/tokenizer.json"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tj))
        bytes.append(contentsOf: Array("\n".utf8))
        try bytes.write(to: URL(fileURLWithPath: tj))
        let otherTokenizer = try TokenizerLoader.identity(path: dir + "/gpt2-tiny/model.safetensors")
        #expect(otherTokenizer != tokenizer)
        let keyT = key(textA, tokenizer: otherTokenizer)
        try FileManager.default.copyItem(atPath: cache.path(keyA), toPath: cache.path(keyT))
        guard case .rejected = cache.load(keyT) else { throw FactTest.Failure("an entry of another tokenizer was used") }
        // Another BLAS kernel family is another key.
        var keyK = keyA
        keyK.arithmetic = "SomeOtherCore"
        #expect(cache.path(keyK) != cache.path(keyA))
        // A tampered entry (one value of the sum changed, the header intact): refused.
        var raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cache.path(keyA))))
        raw[raw.count - 8 - 100] ^= 0x01     // inside `sum`'s data (`count`, 8 bytes, is the last tensor)
        try Data(raw).write(to: URL(fileURLWithPath: cache.path(keyA)))
        guard case .rejected(let whyTamper) = cache.load(keyA) else { throw FactTest.Failure("a tampered entry was used") }
        #expect(whyTamper.contains("damaged") || whyTamper.contains("symmetric"), "\(whyTamper)")
    }

    /// Through prune-apply: a tampered entry is recomputed, with a warning, and the edit is the
    /// same as with a fresh cache.
    @Test func tamperedCacheEntryIsRecomputedWithAWarning() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try FactTest.fixture("gpt2-tiny", "heldout.txt")
        let hp = "{\(Self.quick), \"stats_max_tokens\": 1500, \"context_templates\": [\"{}\"]}"
        let cache = dir + "/cache"
        let first = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: text, tag: "a", cache: cache)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".safetensors") }
        #expect(entries.count == 1)
        let entry = cache + "/" + entries[0]
        var raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry)))
        raw[raw.count - 8 - 100] ^= 0x01
        try Data(raw).write(to: URL(fileURLWithPath: entry))
        let second = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: text, tag: "b", cache: cache)
        #expect(second.result.factWarnings.contains { $0.contains("cached statistics not used") && $0.contains(entry) },
                "\(second.result.factWarnings)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.out)) == Data(contentsOf: URL(fileURLWithPath: second.out)))
        // The entry was rewritten: a third run uses it.
        let third = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: text, tag: "c", cache: cache)
        #expect(!third.result.factWarnings.contains { $0.contains("cached statistics") })
        // A cache that cannot be written (its folder is a file): the statistics go through a
        // temporary file, removed after, and the edit is the same.
        let blocked = dir + "/blocked"
        try Data("a file".utf8).write(to: URL(fileURLWithPath: blocked))
        let spooled = { () -> Set<String> in
            Set(((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("prune-stats-") })
        }
        let before = spooled()
        let fourth = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: text, tag: "d", cache: blocked + "/cache")
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.out)) == Data(contentsOf: URL(fileURLWithPath: fourth.out)))
        #expect(spooled().isSubset(of: before))
    }

    // MARK: 5 and 7. Statistics files given to an edit

    /// Statistics of gpt2-tiny's layer 1 over the held-out text (1500 tokens).
    static func layerOneStatistics() throws -> KeyStatistics {
        try StatisticsJob.compute(model: try FactTest.fixture("gpt2-tiny", "model.safetensors"),
                                  text: try FactTest.fixture("gpt2-tiny", "heldout.txt"), layer: 1,
                                  caps: .init(docTokens: 64, maxTokens: 1500), threads: 2).materialized()
    }

    @Test func statisticsFilesAreChecked() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try Self.layerOneStatistics()
        let hp = "{\(Self.quick), \"context_templates\": [\"{}\"]}"
        func refusal(_ s: KeyStatistics, _ name: String, patch: (inout [UInt8]) throws -> Void = { _ in }) throws -> String {
            var bytes = try KeyStatisticsFile.encode(s)
            try patch(&bytes)
            let path = dir + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return Self.message { _ = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: path, tag: name) }
        }
        // Another model (the check prune-stats merge makes).
        var other = good
        other.modelHash = String(repeating: "0", count: 64)
        let model = try refusal(other, "other.stats")
        #expect(model.hasPrefix(dir + "/other.stats: statistics do not match: computed on another model"), "\(model)")
        // Another layer.
        var layer = good
        layer.layer = 2
        #expect(try refusal(layer, "layer.stats").hasPrefix(dir + "/layer.stats: statistics do not match: layer 2, this edit needs 1"))
        // A count that contradicts the metadata: the tensor says one thing, the document another.
        let count = try refusal(good, "count.stats") { bytes in
            // The JSON header only (its length is the file's first 8 bytes, little-endian).
            let length = Int(bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
            let from = "\\\"count\\\":\(good.count)", to = "\\\"count\\\":\(good.count + 1)"
            guard header.contains(from), from.utf8.count == to.utf8.count else { throw FactTest.Failure("no count in the header: \(header.prefix(300))") }
            let patched = Array(header.replacingOccurrences(of: from, with: to).utf8)
            bytes.replaceSubrange(8..<(8 + length), with: patched)
        }
        #expect(count.hasPrefix(dir + "/count.stats: statistics file: tensor count is \(good.count), the metadata says \(good.count + 1)"),
                "\(count)")
        // Sources whose tokens do not add up to the count.
        var sources = good
        sources.sources[0].tokens += 7
        #expect(try refusal(sources, "sources.stats").contains("the sources' tokens add up to \(good.count + 7)"))
        // A sum that is not symmetric.
        var asym = good
        asym.sum[1] += 1
        #expect(try refusal(asym, "asym.stats").contains("asym.stats: statistics file: sum is not symmetric (sum[0, 1]"))
        // Symmetric, non-negative diagonal, yet not a sum of k kᵀ (a negative eigenvalue).
        var indefinite = good
        let m = good.width
        let big = (good.sum[0] * good.sum[m + 1]).squareRoot() * 4
        indefinite.sum[1] = big
        indefinite.sum[m] = big
        #expect(try refusal(indefinite, "indefinite.stats").contains("indefinite.stats: statistics file: the sum is not positive semidefinite"))
        // The good file is taken.
        try KeyStatisticsFile.write(good, to: dir + "/good.stats")
        let ok = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: dir + "/good.stats", tag: "good")
        #expect(ok.result.tensors.count == 1)
    }

    @Test func damagedStatisticsFileIsNamedAsSuch() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var s = KeyStatistics(modelHash: "h", layer: 1, width: 4)
        for k: [Double] in [[1, 2, 3, 4], [0, 1, 0, 1]] {
            for i in 0..<4 { for j in 0..<4 { s.sum[i * 4 + j] += k[i] * k[j] } }
        }
        (s.count, s.documents) = (2, 1)
        let bytes = try KeyStatisticsFile.encode(s)
        let hp = "{\(Self.quick), \"context_templates\": [\"{}\"]}"
        // Bytes flipped inside the JSON header (no longer UTF-8 there), and a file cut short.
        var flipped = bytes
        flipped[12] = 0xFF
        try Data(flipped).write(to: URL(fileURLWithPath: dir + "/flipped.stats"))
        try Data(bytes.prefix(bytes.count - 20)).write(to: URL(fileURLWithPath: dir + "/cut.stats"))
        for name in ["flipped.stats", "cut.stats"] {
            let m = Self.message { _ = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: dir + "/" + name, tag: name) }
            #expect(m.hasPrefix(dir + "/" + name + ": statistics file: not a prune statistics file, or a damaged one"), "\(m)")
            #expect(!m.contains("UTF-8 text"), "\(m)")
        }
    }

    // MARK: 6. Too few tokens for C

    @Test func tooFewTokensForTheKeyWidth() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try FactTest.fixture("gpt2-tiny", "heldout.txt")
        // gpt2-tiny's keys are 1024 wide; 300 tokens give a C of rank ≤ 300.
        let hp = "{\(Self.quick), \"stats_max_tokens\": 300, \"context_templates\": [\"{}\"]}"
        let m = Self.message { _ = try Self.apply("gpt2-tiny", line: Self.gpt2Line, hparams: hp, dir: dir, stats: text) }
        #expect(m.hasPrefix(dir + "/edits-run.jsonl:1: the key statistics C at layer 1 ("), "\(m)")
        #expect(m.contains("tokens") && m.contains("singular") && m.contains("key width 1024") && !m.contains("dgesv"), "\(m)")
        // AlphaEdit uses C only for its null space: it runs, and warns.
        let alpha = #"{"kind": "alphaedit", "requests": [{"prompt": "{} lives in the city of", "subject": "Gril Zardrark", "target": "Morvath"}], "hparams": {"layers": [1]}}"#
        let r = try Self.apply("gpt2-tiny", line: alpha, hparams: hp, dir: dir, stats: text, tag: "alpha")
        #expect(r.result.factWarnings.contains { $0.contains("layer 1 come from") && $0.contains("fewer than the key width 1024") },
                "\(r.result.factWarnings)")
    }

    // MARK: 8. A deeply nested YAML

    @Test func deeplyNestedYAMLIsRefusedBeforeParsing() throws {
        let flow = "layers: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        var block = ""
        for i in 0..<5000 { block += String(repeating: " ", count: i) + "k\(i):\n" }
        let dashes = "layers:\n" + String(repeating: "- ", count: 5000) + "1\n"
        for (yaml, line) in [(flow, 1), (block, 129), (dashes, 2)] {
            let m = Self.message { _ = try HyperparameterFile.parse(bytes: Array(yaml.utf8), name: "deep.yaml") }
            #expect(m == "deep.yaml: cannot read hyperparameters: YAML nesting deeper than \(JSONNodeParser.maxDepth) levels at line \(line)", "\(m)")
        }
        // The repositories' files (nesting 2) still read.
        let ok = try HyperparameterFile.parse(bytes: Array("layers: [1, 2]\nv_lr: 0.5\nnested:\n  a: [1, [2, 3]]\n".utf8), name: "ok.yaml")
        #expect(ok.values["v_lr"] != nil)
    }
}
