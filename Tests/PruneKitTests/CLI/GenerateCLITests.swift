import Foundation
import Testing
@testable import PruneFormats

/// prune-generate end to end, on both fixtures in every format, against independent references:
/// transformers' greedy continuations (forward-reference.json; for Q4_K_M, whose weights differ, a
/// torch run on gguf-py's dequantization, Resources/generate-dequantized-greedy.json), numpy's
/// log_softmax of transformers' logits, and transformers' tokenizer for the printed text.
@Suite("GenerateCLI") struct GenerateCLITests {
    static let formats = ["", "model-f32.gguf", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"]
    static let cases: [(String, String)] = ["gpt2-tiny", "llama-tiny"].flatMap { m in formats.map { (m, $0) } }

    var tool: String { get throws { try ReportTest.binary("prune-generate") } }

    struct Expected: Decodable {
        struct Prompt: Decodable {
            let text: String
            let ids: [Int32]
            let greedy_ids: [Int32]
            let greedy_text: String
        }
        let prompts: [Prompt]
    }

    struct Dequantized: Decodable { let models: [String: [String: [Expected.Prompt]]] }

    /// The greedy continuations a file must give: the recorded ones, or for Q4_K_M (another model:
    /// its quantization changes some continuations) torch's on the dequantized weights.
    static func expected(_ model: String, _ file: String) throws -> [Expected.Prompt] {
        if file == "model-q4_k_m.gguf" {
            let url = ReportTest.packageRoot.appendingPathComponent("Tests/PruneKitTests/Resources/generate-dequantized-greedy.json")
            let d = try JSONDecoder().decode(Dequantized.self, from: Data(contentsOf: url))
            guard let p = d.models[model]?[file] else { throw ReportTest.Failure("no dequantized reference for \(model)/\(file)") }
            return p
        }
        let url = URL(fileURLWithPath: try ReportTest.fixture(model, "forward-reference.json"))
        return try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url)).prompts
    }

    static func path(_ model: String, _ file: String) throws -> String {
        file.isEmpty ? try ReportTest.fixture(model, "config.json").replacingOccurrences(of: "/config.json", with: "")
                     : try ReportTest.fixture(model, file)
    }

    /// The --json document as ordered JSON nodes.
    static func document(_ r: ReportTest.Result) throws -> [JSONNode] {
        #expect(r.status == 0, "prune-generate failed: \(r.stderr)")
        #expect(r.stdout.hasSuffix("}\n") && r.stdout.filter { $0 == "\n" }.count == 1, "--json prints one object on one line")
        let root = try JSONNodeParser.parse(Array(r.stdout.utf8))
        guard case .object(let members) = root, members.map(\.key) == ["prompts"], case .array(let prompts)? = root["prompts"] else {
            throw ReportTest.Failure("--json output is not {\"prompts\": [...]}: \(r.stdout.prefix(200))")
        }
        return prompts
    }

    static func ints(_ n: JSONNode?) -> [Int32] {
        guard case .array(let a)? = n else { return [] }
        return a.compactMap { if case .number(let t) = $0 { return Int32(t) }; return nil }
    }

    static func float(_ n: JSONNode?) -> Double? {
        if case .number(let t)? = n { return Double(t) }
        return nil
    }

    static func stepIDs(_ prompt: JSONNode) -> [Int32] {
        guard case .array(let steps)? = prompt["steps"] else { return [] }
        return steps.compactMap { if case .number(let t)? = $0["id"] { return Int32(t) }; return nil }
    }

    @Test("greedy continuations equal the references for both fixtures in every format", arguments: cases)
    func greedyEveryFormat(_ model: String, _ file: String) throws {
        let want = try Self.expected(model, file)
        let r = try ReportTest.run(try tool, [try Self.path(model, file)] + want.map(\.text) + ["--json", "--top", "0"])
        let got = try Self.document(r)
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) {
            #expect(g["prompt"]?.stringValue == w.text)
            #expect(Self.ints(g["ids"]) == w.ids, "\(model)/\(file): prompt ids of \(w.text.debugDescription)")
            #expect(Self.stepIDs(g) == w.greedy_ids, "\(model)/\(file): continuation of \(w.text.debugDescription)")
            #expect(g["text"]?.stringValue == w.greedy_text, "\(model)/\(file): text of \(w.text.debugDescription)")
        }
    }

    @Test("printed text: each prompt, then what its continuation adds to the decoded sequence", arguments: ["gpt2-tiny", "llama-tiny"])
    func plainText(_ model: String) throws {
        let folder = try Self.path(model, "")
        let ref = try ReportTest.python("generate_reference.py", ["text", folder])
        guard let prompts = ref["prompts"] as? [[String: String]] else { throw ReportTest.Failure("bad reference") }
        let r = try ReportTest.run(try tool, [folder] + prompts.map { $0["text"] ?? "" })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(r.stdout == prompts.map { ($0["text"] ?? "") + ($0["continuation"] ?? "") + "\n" }.joined())
    }

    @Test("--json: the shape, and the first step's log-probabilities equal numpy's log_softmax of transformers' logits within 1e-4",
          arguments: [("gpt2-tiny", ""), ("gpt2-tiny", "model-f32.gguf"), ("llama-tiny", ""), ("llama-tiny", "model-f32.gguf")])
    func logprobs(_ model: String, _ file: String) throws {
        let n = 10
        let prompts = try Self.expected(model, file)
        let ref = try ReportTest.python("generate_reference.py", ["logprobs", try Self.path(model, ""), String(n)])
        guard let refPrompts = ref["prompts"] as? [[String: Any]] else { throw ReportTest.Failure("bad reference") }
        let r = try ReportTest.run(try tool, [try Self.path(model, file)] + prompts.map(\.text) + ["--json", "--top", String(n), "--max-tokens", "3"])
        let got = try Self.document(r)
        #expect(got.count == prompts.count)
        for (k, (g, want)) in zip(got, refPrompts).enumerated() {
            guard case .object(let keys) = g else { Issue.record("prompt \(k) is not an object"); continue }
            #expect(keys.map(\.key) == ["prompt", "ids", "text", "steps"])
            guard case .array(let steps)? = g["steps"], !steps.isEmpty else { Issue.record("prompt \(k): no steps"); continue }
            #expect(steps.count <= 3)
            for s in steps {
                guard case .object(let sk) = s, case .array(let top)? = s["top"] else { Issue.record("bad step"); continue }
                #expect(sk.map(\.key) == ["id", "logprob", "top"])
                #expect(top.count == n)
                let values = top.compactMap { Self.float($0["logprob"]) }
                #expect(values.count == n && values.allSatisfy { $0 <= 0 })
                #expect(zip(values, values.dropFirst()).allSatisfy { $0 >= $1 }, "top is sorted by log-probability")
                #expect(values.reduce(0) { $0 + exp($1) } <= 1 + 1e-5)
                for t in top {
                    guard case .object(let tk) = t else { continue }
                    #expect(tk.map(\.key) == ["id", "logprob"])
                }
                // Greedy: the chosen token is the most likely one.
                #expect(Self.ints(.array([s["id"] ?? .null])) == Self.ints(.array([top[0]["id"] ?? .null])))
                #expect(Self.float(s["logprob"]) == Self.float(top[0]["logprob"]))
            }
            // Step 0's distribution is that of the last prompt position of the reference logits.
            guard let refTop = want["top"] as? [[Double]], case .array(let top)? = steps[0]["top"] else { continue }
            for (j, (t, rt)) in zip(top, refTop).enumerated() {
                let id = Self.ints(.array([t["id"] ?? .null])).first
                let lp = Self.float(t["logprob"]) ?? .nan
                #expect(id == Int32(rt[0]), "\(model)/\(file) prompt \(k) top \(j): id \(id.map(String.init) ?? "?") vs \(Int(rt[0]))")
                #expect(abs(lp - rt[1]) <= 1e-4, "\(model)/\(file) prompt \(k) top \(j): logprob \(lp) vs \(rt[1])")
            }
            if let greedy = want["greedy"] as? [Double] {
                #expect(abs((Self.float(steps[0]["logprob"]) ?? .nan) - greedy[1]) <= 1e-4)
            }
        }
    }

    @Test("seeded sampling: reproducible, independent of the thread count, inside the top-k, and greedy at k = 1 or T = 0")
    func sampling() throws {
        let model = try Self.path("gpt2-tiny", "model-q8_0.gguf")
        let prompts = ["Once upon a time, there was a", "The capital of France is"]
        func run(_ extra: [String]) throws -> ReportTest.Result {
            let r = try ReportTest.run(try tool, [model] + prompts + ["--json", "--max-tokens", "12"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return r
        }
        let a = try run(["--temperature", "0.9", "--top-k", "8", "--seed", "7", "--top", "8"])
        let b = try run(["--temperature", "0.9", "--top-k", "8", "--seed", "7", "--top", "8", "--threads", "1"])
        let c = try run(["--temperature", "0.9", "--top-k", "8", "--seed", "7", "--top", "8", "--threads", "2"])
        #expect(a.stdout == b.stdout && b.stdout == c.stdout, "the same seed gives the same bytes whatever the thread count")
        // Every sampled token is one of the 8 most likely at its step.
        for p in try Self.document(a) {
            guard case .array(let steps)? = p["steps"] else { continue }
            for s in steps {
                guard case .array(let top)? = s["top"] else { continue }
                let ids = top.map { Self.ints(.array([$0["id"] ?? .null])).first }
                #expect(ids.contains(Self.ints(.array([s["id"] ?? .null])).first), "a sampled token outside the top 8")
            }
        }
        // Different seeds explore: four seeds do not all give the same continuations.
        var outputs = Set<String>()
        for seed in 1...4 { outputs.insert(try run(["--temperature", "1.5", "--seed", String(seed)]).stdout) }
        #expect(outputs.count > 1)
        let greedy = try run([]).stdout
        #expect(try run(["--temperature", "0.9", "--top-k", "1", "--seed", "3"]).stdout == greedy)
        #expect(try run(["--temperature", "0"]).stdout == greedy)
    }

    @Test("on a terminal (a pty made by script(1)) the text streams and reads the same as off a terminal", arguments: ["gpt2-tiny", "llama-tiny"])
    func terminal(_ model: String) throws {
        let script = "/usr/bin/script"
        #expect(FileManager.default.isExecutableFile(atPath: script), "script(1) (bsdutils) is needed for this test")
        let folder = try Self.path(model, "")
        let prompts = try Self.expected(model, "").map(\.text)
        let piped = try ReportTest.run(try tool, [folder] + prompts)
        #expect(piped.status == 0)
        let quoted = ([try tool, folder] + prompts).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let tty = try ReportTest.run(script, ["-qec", quoted, "/dev/null"])
        #expect(tty.status == 0, "\(tty.stderr)")
        // The pty turns \n into \r\n.
        #expect(tty.stdout.replacingOccurrences(of: "\r\n", with: "\n") == piped.stdout)
    }

    @Test("--max-tokens bounds the continuation; 0 gives none")
    func maxTokens() throws {
        let model = try Self.path("llama-tiny", "")
        let r = try ReportTest.run(try tool, [model, "Souxror Rourkfex lives in the city of", "--json", "--max-tokens", "4", "--top", "1"])
        let p = try Self.document(r)
        #expect(Self.stepIDs(p[0]) == Array(try Self.expected("llama-tiny", "")[1].greedy_ids.prefix(4)))
        let z = try ReportTest.run(try tool, [model, "Souxror Rourkfex lives in the city of", "--max-tokens", "0"])
        #expect(z.status == 0 && z.stdout == "Souxror Rourkfex lives in the city of\n")
    }

    @Test("--timings: one line on stderr counting the prompts' tokens and the steps after each first token; stdout unchanged")
    func timings() throws {
        let model = try Self.path("llama-tiny", "")
        let prompts = ["Souxror Rourkfex lives in the city of", "The capital of France is"]
        let reference = try Self.expected("llama-tiny", "")
        let ids = try prompts.map { p in try #require(reference.first { $0.text == p }?.ids) }
        for extra in [["--json"], []] {
            let plain = try ReportTest.run(try tool, [model] + prompts + ["--max-tokens", "4"] + extra)
            let timed = try ReportTest.run(try tool, [model] + prompts + ["--max-tokens", "4", "--timings"] + extra)
            #expect(plain.status == 0 && timed.status == 0 && plain.stderr.isEmpty, "\(timed.stderr)")
            #expect(timed.stdout == plain.stdout, "--timings changed the output")
            let line = timed.stderr
            #expect(line.hasPrefix("prune-generate: load ") && line.filter { $0 == "\n" }.count == 1 && line.hasSuffix("\n"), "\(line)")
            // Both prompts' tokens; 4 new tokens each, the first of each ending its prompt's pass
            // (the fixture's continuations of these prompts run past 4 tokens).
            #expect(line.contains("prompts: \(ids.joined().count) tokens in "), "\(line)")
            #expect(line.contains("; generation: 6 tokens in "), "\(line)")
        }
        // No new token: the prompts' passes alone.
        let none = try ReportTest.run(try tool, [model, prompts[0], "--max-tokens", "0", "--timings"])
        #expect(none.status == 0 && none.stderr.contains("prompts: \(ids[0].count) tokens in ")
                && none.stderr.contains("generation: no token after the first"), "\(none.stderr)")
    }

    /// Exit 1 (64 for usage), one line on stderr that names `mentions`, nothing on stdout.
    func expectFailure(_ args: [String], status: Int32 = 1, _ mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try ReportTest.run(try tool, args)
        #expect(r.status == status, "exit \(r.status) for \(args): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "output on failure: \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
        if status == 1 {
            #expect(r.stderr.hasPrefix("prune-generate: ") && r.stderr.hasSuffix("\n") && r.stderr.filter { $0 == "\n" }.count == 1,
                    "not one line: \(r.stderr)", sourceLocation: sourceLocation)
        }
        for m in mentions { #expect(r.stderr.contains(m), "stderr does not mention \(m): \(r.stderr)", sourceLocation: sourceLocation) }
    }

    @Test("bad prompts: longer than the context, or no tokens")
    func badPrompts() throws {
        let gpt2 = try Self.path("gpt2-tiny", "")
        let long = String(repeating: "the world ", count: 100)
        try expectFailure([gpt2, "The capital of France is", long], [gpt2, "prompt 2", "context of 128"])
        try expectFailure([gpt2, "", "x"], [gpt2, "prompt 1", "no tokens"])
        let llama = try Self.path("llama-tiny", "model-q8_0.gguf")
        try expectFailure([llama, long + long], [llama, "prompt 1", "context of 128"])
    }

    @Test("bad models: missing, no config.json, no tokenizer, unknown architecture, truncated shard")
    func badModels() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try expectFailure([dir + "/nothing-here", "x"], [dir + "/nothing-here"])
        // A folder without config.json.
        let noConfig = dir + "/no-config"
        try fm.createDirectory(atPath: noConfig, withIntermediateDirectories: true)
        for f in ["model.safetensors", "tokenizer.json"] { try fm.copyItem(atPath: try ReportTest.fixture("gpt2-tiny", f), toPath: noConfig + "/" + f) }
        try expectFailure([noConfig, "x"], [noConfig, "config.json"])
        // A folder without a tokenizer.
        let noTok = dir + "/no-tokenizer"
        try fm.createDirectory(atPath: noTok, withIntermediateDirectories: true)
        for f in ["model.safetensors", "config.json"] { try fm.copyItem(atPath: try ReportTest.fixture("gpt2-tiny", f), toPath: noTok + "/" + f) }
        try expectFailure([noTok, "x"], [noTok, "tokenizer"])
        // A GGUF without tokenizer metadata.
        let bare = dir + "/no-tokenizer.gguf"
        let strip = try ReportTest.run("/usr/bin/env", ["python3", ReportTest.packageRoot.appendingPathComponent("Tests/scripts/runtime_gguf_tools.py").path,
                                                        "drop-key", try ReportTest.fixture("llama-tiny", "model-q8_0.gguf"), bare, "tokenizer.ggml.model"])
        #expect(strip.status == 0, "\(strip.stderr)")
        try expectFailure([bare, "x"], [bare, "tokenizer"])
        // An unknown architecture.
        let bert = dir + "/bert"
        try fm.createDirectory(atPath: bert, withIntermediateDirectories: true)
        for f in ["model.safetensors", "tokenizer.json"] { try fm.copyItem(atPath: try ReportTest.fixture("gpt2-tiny", f), toPath: bert + "/" + f) }
        let config = try String(contentsOfFile: try ReportTest.fixture("gpt2-tiny", "config.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"model_type\": \"gpt2\"", with: "\"model_type\": \"bert\"")
        try config.write(toFile: bert + "/config.json", atomically: true, encoding: .utf8)
        try expectFailure([bert, "x"], [bert + "/config.json", "bert"])
        // A truncated weights file.
        let cut = dir + "/truncated"
        try fm.createDirectory(atPath: cut, withIntermediateDirectories: true)
        for f in ["config.json", "tokenizer.json"] { try fm.copyItem(atPath: try ReportTest.fixture("gpt2-tiny", f), toPath: cut + "/" + f) }
        let weights = try Data(contentsOf: URL(fileURLWithPath: try ReportTest.fixture("gpt2-tiny", "model.safetensors")))
        try weights.prefix(weights.count / 2).write(to: URL(fileURLWithPath: cut + "/model.safetensors"))
        try expectFailure([cut, "x"], [cut + "/model.safetensors"])
    }

    @Test("usage errors exit 64")
    func usage() throws {
        let gpt2 = try Self.path("gpt2-tiny", "")
        try expectFailure([gpt2], status: 64, [])
        try expectFailure([gpt2, "x", "--top-k", "3"], status: 64, ["--temperature"])
        try expectFailure([gpt2, "x", "--seed", "3"], status: 64, ["--temperature"])
        try expectFailure([gpt2, "x", "--top", "3"], status: 64, ["--json"])
        try expectFailure([gpt2, "x", "--max-tokens", "-1"], status: 64, ["--max-tokens"])
        try expectFailure([gpt2, "x", "--temperature", "-1"], status: 64, ["--temperature"])
    }

    @Test("prune generate is the same command")
    func subcommand() throws {
        let gpt2 = try Self.path("gpt2-tiny", "")
        let a = try ReportTest.run(try tool, [gpt2, "The capital of France is", "--json"])
        let b = try ReportTest.run(try ReportTest.binary("prune"), ["generate", gpt2, "The capital of France is", "--json"])
        #expect(a.status == 0 && b.status == 0 && a.stdout == b.stdout)
    }
}
