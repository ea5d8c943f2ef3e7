import Foundation
import Testing
@testable import PruneFormats

/// The model-running commands (prune-generate, prune-eval, prune-stats, prune-tokenize) misused as
/// a new user might (issue 18): absurd counts, absurd thread counts, broken weights and
/// configurations, over-long task prompts, prompt arguments that are not UTF-8.
@Suite("ModelCommandMisuse") struct ModelCommandMisuseTests {
    static func folder(_ model: String) throws -> String {
        URL(fileURLWithPath: try ReportTest.fixture(model, "config.json")).deletingLastPathComponent().path
    }

    /// Exit `status`, one line on stderr `<tool>: …` naming every string of `mentions`, nothing on stdout.
    static func expectFailure(_ r: ReportTest.Result, tool: String, status: Int32 = 1, _ mentions: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "output on failure: \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix(tool + ": ") && r.stderr.filter { $0 == "\n" }.count == 1 && r.stderr.hasSuffix("\n"),
                "not one line: \(r.stderr)", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "stderr does not mention \(m): \(r.stderr)", sourceLocation: sourceLocation) }
    }

    /// The first `n` CounterFact requests of a fixture, as a file in `dir`.
    static func requests(_ model: String, _ n: Int, in dir: String) throws -> String {
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try ReportTest.fixture(model, "requests.json")))) as! [Any]
        let path = dir + "/requests.json"
        try JSONSerialization.data(withJSONObject: Array(all.prefix(n))).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("--max-tokens 2^63-1 generates to the end of the context, as --max-tokens 128 (the context) does")
    func hugeMaxTokens() throws {
        let gen = try ReportTest.binary("prune-generate")
        for model in [try Self.folder("gpt2-tiny"), try ReportTest.fixture("llama-tiny", "model-q8_0.gguf")] {
            let prompt = "The capital of France is"
            let huge = try ReportTest.run(gen, [model, prompt, "--json", "--top", "0", "--max-tokens", String(Int.max)])
            #expect(huge.status == 0, "\(model): \(huge.stderr)")
            let context = try ReportTest.run(gen, [model, prompt, "--json", "--top", "0", "--max-tokens", "128"])
            #expect(context.status == 0 && !context.stdout.isEmpty && huge.stdout == context.stdout, "\(model)")
        }
    }

    @Test("prune-eval --generate 2^63-1: the generations of --generate 128 (the context)")
    func hugeEvalGenerate() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.folder("gpt2-tiny")
        let requests = try Self.requests("gpt2-tiny", 1, in: dir)
        let eval = try ReportTest.binary("prune-eval")
        let huge = try ReportTest.run(eval, [model, "--requests", requests, "--generate", String(Int.max), "--json"])
        #expect(huge.status == 0, "\(huge.stderr)")
        let context = try ReportTest.run(eval, [model, "--requests", requests, "--generate", "128", "--json"])
        #expect(context.status == 0, "\(context.stderr)")
        let a = try ReportTest.parseJSON(huge.stdout), b = try ReportTest.parseJSON(context.stdout)
        let texts = (b["generations"] as? [String]) ?? []
        #expect(!texts.isEmpty && (a["generations"] as? [String]) == texts)
    }

    /// `/usr/bin/time -f %M`: the child's peak resident memory in KiB, from the last line of stderr.
    static func peakKiB(_ r: ReportTest.Result) -> Int? {
        r.stderr.split(separator: "\n").last.flatMap { Int($0) }
    }

    @Test("--threads 100000 is capped at the cores (ThreadCount): generate, eval and stats give the output of --threads 1 in bounded memory")
    func hugeThreadCounts() throws {
        #expect(ThreadCount.resolved(100_000) == ThreadCount.cores)
        #expect(ThreadCount.resolved(0) == ThreadCount.cores && ThreadCount.resolved(nil) == ThreadCount.cores)
        #expect(ThreadCount.resolved(1) == 1)
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.folder("gpt2-tiny")
        let heldout = try ReportTest.fixture("gpt2-tiny", "heldout.txt")
        let runs: [(tool: String, args: (String) -> [String], output: String?)] = [
            ("prune-generate", { [model, "The capital of France is", "--json", "--threads", $0] }, nil),
            ("prune-eval", { [model, "--perplexity", heldout, "--ppl-docs", "8", "--json", "--threads", $0] }, nil),
            ("prune-stats", { [model, heldout, "--layer", "1", "--max-docs", "8", "-o", dir + "/s\($0).stats", "--threads", $0] }, dir + "/s"),
        ]
        for run in runs {
            let exe = try ReportTest.binary(run.tool)
            let one = try ReportTest.run(exe, run.args("1"))
            #expect(one.status == 0, "\(run.tool): \(one.stderr)")
            // 100000 per-thread scratch buffers took gigabytes; capped, the tiny model needs far less than 1 GiB.
            let many = try ReportTest.run("/usr/bin/time", ["-f", "%M", exe] + run.args("100000"))
            #expect(many.status == 0, "\(run.tool): \(many.stderr)")
            let kib = Self.peakKiB(many) ?? Int.max
            #expect(kib < 1 << 20, "\(run.tool) --threads 100000 peaked at \(kib) KiB")
            if let prefix = run.output {
                let a = try Data(contentsOf: URL(fileURLWithPath: prefix + "1.stats"))
                let b = try Data(contentsOf: URL(fileURLWithPath: prefix + "100000.stats"))
                #expect(a == b, "\(run.tool): the statistics depend on the thread count")
            } else if run.tool == "prune-eval" {
                // The report names no thread count; the perplexity is the same bits.
                let x = try ReportTest.parseJSON(one.stdout), y = try ReportTest.parseJSON(many.stdout)
                #expect(x["perplexity"] as? Double != nil && x["perplexity"] as? Double == y["perplexity"] as? Double)
            } else {
                #expect(one.stdout == many.stdout, "\(run.tool): the output depends on the thread count")
            }
        }
    }

    @Test("weights that give NaN logits: prune-generate and prune-eval fail naming the model and the place, never print NaN")
    func nonFiniteLogits() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try Self.folder("gpt2-tiny")
        let model = dir + "/nan"
        _ = try TestProcess.python("runtime_hf_tools.py", ["nan", fixture, model, "transformer.ln_f.weight"])
        try FileManager.default.copyItem(atPath: fixture + "/tokenizer.json", toPath: model + "/tokenizer.json")
        let gen = try ReportTest.binary("prune-generate")
        Self.expectFailure(try ReportTest.run(gen, [model, "Hello", "The capital of France is"]), tool: "prune-generate",
                           [model, "not finite", "prompt 1", "position"])
        Self.expectFailure(try ReportTest.run(gen, [model, "Hello", "--json"]), tool: "prune-generate", [model, "not finite"])
        let eval = try ReportTest.binary("prune-eval")
        let heldout = try ReportTest.fixture("gpt2-tiny", "heldout.txt")
        Self.expectFailure(try ReportTest.run(eval, [model, "--perplexity", heldout, "--ppl-docs", "3"]), tool: "prune-eval",
                           [model, "not finite", heldout + ":1"])
        let tasks = ReportTest.packageRoot.appendingPathComponent("samples/tasks/gpt2-tiny-facts.jsonl").path
        Self.expectFailure(try ReportTest.run(eval, [model, "--tasks", tasks, "--json"]), tool: "prune-eval",
                           [model, "not finite", tasks + ":1"])
        let requests = try Self.requests("gpt2-tiny", 2, in: dir)
        Self.expectFailure(try ReportTest.run(eval, [model, "--requests", requests]), tool: "prune-eval",
                           [model, "not finite", requests + ":1"])
        // A text with nothing to predict (one token a line on gpt2, which adds no BOS) has no perplexity, not NaN.
        let short = dir + "/short.txt"
        try "a\nb\n".write(toFile: short, atomically: true, encoding: .utf8)
        Self.expectFailure(try ReportTest.run(eval, [fixture, "--perplexity", short]), tool: "prune-eval", [short, "nothing to predict"])
        // A negative layer_norm_epsilon (NaN from the first norm) is refused when the config is read.
        let eps = dir + "/eps"
        try FileManager.default.createDirectory(atPath: eps, withIntermediateDirectories: true)
        for f in ["model.safetensors", "tokenizer.json"] { try FileManager.default.createSymbolicLink(atPath: eps + "/" + f, withDestinationPath: fixture + "/" + f) }
        let config = try String(contentsOfFile: fixture + "/config.json", encoding: .utf8)
        #expect(config.contains("\"layer_norm_epsilon\": 1e-05"))
        try config.replacingOccurrences(of: "\"layer_norm_epsilon\": 1e-05", with: "\"layer_norm_epsilon\": -1e-05")
            .write(toFile: eps + "/config.json", atomically: true, encoding: .utf8)
        Self.expectFailure(try ReportTest.run(gen, [eps, "Hello"]), tool: "prune-generate", [eps + "/config.json", "'layer_norm_epsilon'", "positive"])
        Self.expectFailure(try ReportTest.run(eval, [eps, "--perplexity", heldout]), tool: "prune-eval", [eps + "/config.json", "'layer_norm_epsilon'"])
    }

    @Test("a task prompt longer than the context names the tasks file and line")
    func overlongTaskPrompt() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = dir + "/tasks.jsonl"
        let long = String(repeating: "the world ", count: 100)
        try ("{\"prompt\": \"Paris is in\", \"choices\": [\"France\", \"Spain\"], \"answer\": 0}\n"
             + "{\"prompt\": \"\(long)\", \"choices\": [\"a\", \"b\"], \"answer\": 1}\n").write(toFile: tasks, atomically: true, encoding: .utf8)
        let r = try ReportTest.run(try ReportTest.binary("prune-eval"), [try Self.folder("gpt2-tiny"), "--tasks", tasks])
        Self.expectFailure(r, tool: "prune-eval", [tasks + ":2:", "choice \"a\"", "context of 128"])
        #expect(!r.stderr.contains("prompt 1"))
    }

    @Test("a prompt argument that is not UTF-8 is refused, as standard input is (generate, tokenize)")
    func invalidUTF8Arguments() throws {
        let model = try Self.folder("gpt2-tiny")
        for (tool, what) in [("prune-generate", "prompt 2"), ("prune-tokenize", "TEXT 2")] {
            let exe = try ReportTest.binary(tool)
            // bash passes the bytes as they are: "caf\xE9" (Latin-1) is not UTF-8.
            let r = try ReportTest.sh("'\(exe)' '\(model)' 'fine' \"$(printf 'caf\\351')\"")
            Self.expectFailure(r, tool: tool, [what, "not valid UTF-8"])
            let ok = try ReportTest.sh("'\(exe)' '\(model)' 'fine' \"$(printf 'caf\\303\\251')\"")
            #expect(ok.status == 0, "\(tool): \(ok.stderr)")
        }
    }
}
