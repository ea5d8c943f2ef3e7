import Foundation
import Testing

/// Issue 18, section 3: "every file the run reads is an input that no output may replace", for every
/// command and output option of prune-eval --sequential, prune-stats and prune-apply with fact lines.
/// Each refusal comes before any work: one line on stderr, exit 1, every input keeps its SHA-256, and
/// nothing is created.
@Suite("RunInputs") struct RunInputsTests {
    /// A writable copy of gpt2-tiny's Hugging Face folder (`model/`), its held-out text, four of its
    /// requests, the sample tasks and ROME hyperparameters, and the sample fact line.
    static func scratch() throws -> String {
        let dir = try ReportTest.tempDir()
        let fixture = try ReportTest.fixture("gpt2-tiny", "")
        try FileManager.default.createDirectory(atPath: dir + "/model", withIntermediateDirectories: true)
        for f in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: fixture + "/" + f, toPath: dir + "/model/" + f)
        }
        try FileManager.default.copyItem(atPath: fixture + "/heldout.txt", toPath: dir + "/heldout.txt")
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture + "/requests.json"))) as! [Any]
        try JSONSerialization.data(withJSONObject: Array(all.prefix(4))).write(to: URL(fileURLWithPath: dir + "/requests.json"))
        let samples = ReportTest.packageRoot.path + "/samples/"
        try FileManager.default.copyItem(atPath: samples + "tasks/gpt2-tiny-facts.jsonl", toPath: dir + "/tasks.jsonl")
        try FileManager.default.copyItem(atPath: samples + "hparams/rome-gpt2-tiny.json", toPath: dir + "/hparams.json")
        try FileManager.default.copyItem(atPath: samples + "fact.jsonl", toPath: dir + "/fact.jsonl")
        return dir
    }

    /// Every file of the scratch folder (recursively) with its SHA-256, and every folder.
    static func hashes(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let e = FileManager.default.enumerator(atPath: dir)
        while let f = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir) else { continue }
            out[f] = isDir.boolValue ? "a folder" : try IOTest.sha256sum(dir + "/" + f)
        }
        return out
    }

    /// Runs `tool args` in a fresh scratch folder and checks the refusal: exit 1, exactly `message`
    /// after the tool's name on one line, and the folder's files (names and bytes) as before.
    static func refused(_ tool: String, _ args: [String], _ message: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try hashes(dir)
        let r = try SafetyTest.run(try SafetyTest.tool(tool), args, cwd: dir, timeout: 120)
        #expect(r.status == 1 && !r.signalled, "\(tool) \(args): exit \(r.status): \(r.stderr)")
        #expect(r.stderr == "\(tool): \(message)\n", "\(tool) \(args)")
        #expect(try hashes(dir) == before, "\(tool) \(args): files changed or created")
    }

    static let sequential = ["model", "--sequential", "requests.json", "--checkpoints", "2", "--compare", "none,log:e",
                             "--perplexity", "heldout.txt", "--ppl-docs", "4", "--tasks", "tasks.jsonl",
                             "--hparams", "hparams.json", "--stats-text", "heldout.txt", "--rows", "rows.jsonl", "--threads", "2"]

    @Test("prune-eval --sequential: --plot, --rows, --keep's -o, --sidecar and --manifest never replace an input", arguments: [
        (["--plot", "model/model.safetensors"], "model/model.safetensors: --plot would overwrite an input: a file of the model folder model"),
        (["--plot", "requests.json"], "requests.json: --plot would overwrite an input: the requests (--sequential)"),
        (["--plot", "model/tokenizer.json"], "model/tokenizer.json: --plot would overwrite an input: a file of the model folder model"),
        (["--plot", "rows.jsonl"], "rows.jsonl: --plot and --rows name the same file; each output needs a file of its own"),
        (["--keep", "log:e", "-o", "requests.json"], "requests.json: -o would overwrite an input: the requests (--sequential)"),
        (["--keep", "log:e", "-o", "out.safetensors", "--sidecar", "heldout.txt"],
         "heldout.txt: --sidecar would overwrite an input: the perplexity text (--perplexity)"),
        (["--keep", "log:e", "-o", "out.safetensors", "--manifest", "tasks.jsonl"],
         "tasks.jsonl: --manifest would overwrite an input: a task file (--tasks)"),
        (["--keep", "log:e", "-o", "out.safetensors", "--manifest", "hparams.json"],
         "hparams.json: --manifest would overwrite an input: the --hparams file"),
        (["--keep", "log:e", "-o", "tasks.safetensors"],
         "tasks.jsonl: the manifest (next to -o) would overwrite an input: a task file (--tasks)"),
        (["--keep", "log:e", "-o", "model/model.safetensors"],
         "model/model.safetensors: -o would overwrite an input: a file of the model folder model"),
        (["--keep", "log:e", "-o", "out.safetensors", "--manifest", "out.jsonl", "--sidecar", "model/config.json"],
         "model/config.json: --sidecar would overwrite an input: a file of the model folder model"),
    ] as [([String], String)])
    func evalOutputs(extra: [String], message: String) throws {
        try Self.refused("prune-eval", Self.sequential + extra, message)
    }

    @Test("prune-stats -o never replaces the model's weights, config, tokenizer or the text", arguments: [
        (["model", "heldout.txt", "--layer", "1", "-o", "model/model.safetensors"],
         "model/model.safetensors: -o would overwrite an input: a file of the model folder model"),
        (["model", "heldout.txt", "--layer", "1", "-o", "model/config.json"],
         "model/config.json: -o would overwrite an input: a file of the model folder model"),
        (["model", "heldout.txt", "--layer", "1", "-o", "model/tokenizer.json"],
         "model/tokenizer.json: -o would overwrite an input: a file of the model folder model"),
        (["model/model.safetensors", "heldout.txt", "--layer", "1", "-o", "model/tokenizer_config.json"],
         "model/tokenizer_config.json: -o would overwrite an input: tokenizer_config.json beside the model"),
        (["model/model.safetensors", "heldout.txt", "--layer", "1", "-o", "./heldout.txt"],
         "./heldout.txt: -o would overwrite an input: the text"),
    ] as [([String], String)])
    func statsOutput(args: [String], message: String) throws {
        try Self.refused("prune-stats", args, message)
    }

    @Test("prune-apply with fact lines: -o and --sidecar never replace config.json, tokenizer.json, --hparams or --stats-text", arguments: [
        (["-o", "model/config.json"], "model/config.json: -o would overwrite an input: config.json beside the model"),
        (["-o", "model/tokenizer.json"], "model/tokenizer.json: -o would overwrite an input: tokenizer.json beside the model"),
        (["-o", "out.safetensors", "--sidecar", "model/tokenizer.json"],
         "model/tokenizer.json: --sidecar would overwrite an input: tokenizer.json beside the model"),
        (["-o", "hparams.json"], "hparams.json: -o would overwrite an input: the --hparams file"),
        (["-o", "out.safetensors", "--sidecar", "heldout.txt"], "heldout.txt: --sidecar would overwrite an input: the --stats-text file"),
    ] as [([String], String)])
    func factApplyOutputs(extra: [String], message: String) throws {
        try Self.refused("prune-apply", ["model/model.safetensors", "fact.jsonl", "--hparams", "hparams.json",
                                         "--stats-text", "heldout.txt", "--threads", "2"] + extra, message)
    }

    @Test("prune-eval --keep that fails after writing the kept manifest removes it")
    func failedKeepLeavesNoManifest() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("{\"layers\": [1],".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        var args = Self.sequential + ["--keep", "log:e", "-o", "kept.safetensors"]
        args[args.firstIndex(of: "hparams.json")!] = "bad.json"
        let r = try SafetyTest.run(try SafetyTest.tool("prune-eval"), args, cwd: dir, timeout: 300)
        #expect(r.status == 1 && r.stderr.hasPrefix("prune-eval: bad.json: "), "exit \(r.status): \(r.stderr)")
        for f in ["kept.jsonl", "kept.safetensors", "kept.prune"] {
            #expect(!FileManager.default.fileExists(atPath: dir + "/" + f), "\(f) left behind")
        }
        #expect(try SafetyTest.hiddenFiles(dir).isEmpty)
    }
}
