import Foundation
import PruneFacts
import PruneFormats
import PruneKit
import PruneRuntime
import PruneTokenizers

// prune-bench-facts [--cases gpt2-tiny,llama-tiny,smol,…] [--threads N] [--torch PYTHON] [--fixtures DIR]
//                   [--smol HF_FOLDER] [--rome-edits N] [--steps N] [--parts stats,rome,memit,rss] [--apply PRUNE_APPLY]
// Seconds per ROME edit and per MEMIT batch of 10, and the key statistics (tokens/s, peak RSS), of
// prune's fact engine against a torch implementation of the same steps (Benchmarks/scripts/
// bench_facts_torch.py: same model, hyperparameters, templates, requests and thread count), both
// measured in this run; the ratios are torch's time over prune's (> 1: prune is faster).
//   gpt2-tiny, llama-tiny  the fixtures, with their reference ROME hyperparameters (rome-reference.json)
//   smol                   SmolLM2-135M-Instruct (a Hugging Face folder made from the published GGUF by
//                          Benchmarks/scripts/gguf_to_hf.py), prune's default hyperparameters, real facts
//   llama3.2-1b-q8_0, llama3.2-1b-q4_k_m, synthetic-1.5b-q8_0
//                          the synthetic GGUF files of Benchmarks/scripts/make_models.py cache
//                          (~/.cache/prune-bench/), prune's default hyperparameters, the same facts
//   gemma3-270m-q4_k_m     the real Gemma 3 270M (~/.cache/prune-models/gemma3-270m/gemma-3-270m-q4_k_m.gguf)
// GGUF cases run on the file as stored (torch loads it with transformers' gguf_file=, dequantized to
// f32); statistics over Benchmarks/real-facts/data/python-docs.txt. `--steps N` sets the optimisation's
// steps on both sides (the large cases). `rss`: peak RSS of prune-apply (one ROME line, then one MEMIT
// line of the 10 requests, each its own run with the same statistics text, a fresh statistics cache)
// against the model file's size.
// Run it with OPENBLAS_CORETYPE set as the tools would choose it (prune's commands restart themselves
// with it; the benchmark does not): the torch baseline gets the same environment.

func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
func note(_ s: String) { FileHandle.standardError.write(Data(("  " + s + "\n").utf8)) }
func fail(_ s: String) -> Never { FileHandle.standardError.write(Data("prune-bench-facts: \(s)\n".utf8)); exit(1) }
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func vmHWM() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}
func mib(_ kib: Int) -> String { String(format: "%.0f MiB", Double(kib) / 1024) }

nonisolated(unsafe) var cases = ["gpt2-tiny", "llama-tiny", "smol"]
nonisolated(unsafe) var threads = 2
nonisolated(unsafe) var torch: String? = "/work/venv-torch/bin/python"
nonisolated(unsafe) var fixtures = "../shared/fixtures"
nonisolated(unsafe) var smolFolder = "/tmp/prune-bench-data/smollm2-135m-real-hf"
nonisolated(unsafe) var romeEdits = 2
/// Which measurements to run (all by default; the torch side runs the same ones).
nonisolated(unsafe) var parts: Set<String> = ["stats", "rome", "memit", "rss"]
nonisolated(unsafe) var steps: Int?
nonisolated(unsafe) var applyPath = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("prune-apply").path
let benchmarks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
/// The GGUF cases: file, display name.
let ggufCases: [String: (path: String, name: String)] = [
    "llama3.2-1b-q8_0": (home + "/.cache/prune-bench/llama3.2-1b-q8_0.gguf", "synthetic Llama-3.2-1B Q8_0"),
    "llama3.2-1b-q4_k_m": (home + "/.cache/prune-bench/llama3.2-1b-q4_k_m.gguf", "synthetic Llama-3.2-1B Q4_K_M"),
    "synthetic-1.5b-q8_0": (home + "/.cache/prune-bench/llama-1b-q8_0.gguf", "synthetic 1.5B Q8_0"),
    "gemma3-270m-q4_k_m": (home + "/.cache/prune-models/gemma3-270m/gemma-3-270m-q4_k_m.gguf", "Gemma 3 270M Q4_K_M"),
]
do {
    let a = CommandLine.arguments
    var i = 1
    func value() -> String { guard i + 1 < a.count else { fail("\(a[i]) needs a value") }; i += 1; return a[i] }
    while i < a.count {
        switch a[i] {
        case "--cases": cases = value().split(separator: ",").map(String.init)
        case "--threads": threads = Int(value()) ?? 2
        case "--torch": let v = value(); torch = v == "none" ? nil : v
        case "--fixtures": fixtures = value()
        case "--smol": smolFolder = value()
        case "--rome-edits": romeEdits = max(1, Int(value()) ?? 2)
        case "--steps": steps = Int(value()).map { max(1, $0) }
        case "--apply": applyPath = value()
        case "--parts":
            parts = Set(value().split(separator: ",").map(String.init))
            guard parts.isSubset(of: ["stats", "rome", "memit", "rss"]), !parts.isEmpty else { fail("--parts takes stats, rome, memit, rss") }
        default: fail("unknown argument \(a[i])")
        }
        i += 1
    }
}

/// Real facts SmolLM2 knows, rewritten to false ones.
let smolRequests = [
    FactRequest(prompt: "{} is located in the city of", subject: "The Eiffel Tower", target: "Rome"),
    FactRequest(prompt: "The capital of {} is", subject: "France", target: "Berlin"),
    FactRequest(prompt: "{} was written by", subject: "Romeo and Juliet", target: "Charles Dickens"),
    FactRequest(prompt: "The mother tongue of {} is", subject: "Danielle Darrieux", target: "English"),
    FactRequest(prompt: "{} is produced by", subject: "The iPhone", target: "Nokia"),
    FactRequest(prompt: "{} plays the sport of", subject: "Michael Jordan", target: "tennis"),
    FactRequest(prompt: "The official language of {} is", subject: "Japan", target: "Spanish"),
    FactRequest(prompt: "{} was founded by", subject: "Microsoft", target: "Steve Jobs"),
    FactRequest(prompt: "{} is the capital of", subject: "Tokyo", target: "China"),
    FactRequest(prompt: "The currency of {} is the", subject: "the United States", target: "euro"),
]
/// rome_ref.py's fixed context templates (the fixtures' reference run uses them).
let fixedTemplates = ["{}", "The. {}", "Therefore, {}", "Because {}", "I think {}", "You know, {}",
                      "It is said that {}", "Yesterday, {}", "In fact, {}", "Note: {}", "Well, {}"]

struct Case {
    var name: String
    var folder: String
    var rome: FactHyperparameters
    var memit: FactHyperparameters
    var templates: [String]
    var requests: [FactRequest]
    var statsText: String
}

func json(_ path: String) -> JSONNode {
    guard let d = FileManager.default.contents(atPath: path), let j = try? JSONNodeParser.parse([UInt8](d)) else { fail("cannot read \(path)") }
    return j
}

func makeCase(_ name: String, network: FactModel) -> Case {
    let ctx = HyperparameterContext(architecture: network.config.architecture,
                                    layerCount: network.config.layerCount, contextLength: network.config.contextLength)
    var rome = HyperparameterDefaults.defaults(.rome, context: ctx)
    var memit = HyperparameterDefaults.defaults(.memit, context: ctx)
    if name == "smol" || ggufCases[name] != nil {
        rome.earlyStopLoss = -1
        memit.earlyStopLoss = -1
        if let n = steps {
            rome.vNumGradSteps = n
            memit.vNumGradSteps = n
        }
        if let g = ggufCases[name] {
            return Case(name: g.name, folder: g.path, rome: rome, memit: memit, templates: fixedTemplates, requests: smolRequests,
                        statsText: benchmarks.appendingPathComponent("real-facts/data/python-docs.txt").path)
        }
        return Case(name: "SmolLM2-135M", folder: smolFolder, rome: rome, memit: memit, templates: fixedTemplates,
                    requests: smolRequests, statsText: fixtures + "/gpt2-tiny/heldout.txt")
    }
    let dir = fixtures + "/" + name
    let ref = json(dir + "/rome-reference.json")
    guard let layer = ref["layer"]?.nonNegativeInt, let hp = ref["hparams"],
          case .array(let ts)? = ref["context_templates"], case .array(let all) = json(dir + "/requests.json") else {
        fail("\(dir): unexpected rome-reference.json or requests.json")
    }
    do { rome = try rome.applying(HyperparameterSource(name: "reference", values: hp), context: ctx) } catch { fail("\(error)") }
    rome.layers = [Int(layer)]
    rome.earlyStopLoss = -1   // always the full number of steps, as the torch side
    // MEMIT over the edited layer and the one below, with the reference's optimisation settings.
    memit.layers = [max(0, Int(layer) - 1), Int(layer)]
    memit.vNumGradSteps = rome.vNumGradSteps
    memit.vLR = rome.vLR
    memit.earlyStopLoss = -1
    let requests = all.prefix(10).compactMap { q -> FactRequest? in
        guard let rw = q["requested_rewrite"], let p = rw["prompt"]?.stringValue, let s = rw["subject"]?.stringValue,
              let t = rw["target_new"]?["str"]?.stringValue else { return nil }
        return FactRequest(prompt: p, subject: s, target: t)
    }
    return Case(name: name, folder: dir, rome: rome, memit: memit, templates: ts.compactMap(\.stringValue),
                requests: requests, statsText: dir + "/heldout.txt")
}

func runTorch(_ python: String, _ work: [String: Any]) -> [String: Any]? {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("prune-bench-facts-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    guard let data = try? JSONSerialization.data(withJSONObject: work) else { fail("cannot encode the torch work") }
    FileManager.default.createFile(atPath: path, contents: data)
    let script = benchmarks.appendingPathComponent("scripts/bench_facts_torch.py").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [script, path]
    let out = Pipe()
    p.standardOutput = out
    do { try p.run() } catch { note("torch: cannot run \(python): \(error)"); return nil }
    let got = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let line = String(decoding: got, as: UTF8.self).split(separator: "\n").last,
          let j = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        note("torch: \(python) \(script) failed (status \(p.terminationStatus))")
        return nil
    }
    return j
}

func hpJSON(_ h: FactHyperparameters) -> [String: Any] {
    ["steps": h.vNumGradSteps, "lr": h.vLR, "clamp": h.clampNormFactor, "kl": h.klFactor, "wd": h.vWeightDecay]
}

say("prune-bench-facts: \(threads) threads, OpenBLAS kernels \(BLASCore.name) (OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")), torch \(torch ?? "not run")")
let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)
say("load average at start: \(load?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")

/// Peak RSS of prune-apply computing `line` on `model` (a fresh statistics cache), as `/usr/bin/time -v` reports it.
func applyPeak(model: String, line: String, hparams: [String: Any], statsText: String) -> (kib: Int, seconds: Double)? {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prune-bench-facts-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    FileManager.default.createFile(atPath: dir + "/edits.jsonl", contents: Data((line + "\n").utf8))
    guard let h = try? JSONSerialization.data(withJSONObject: hparams) else { return nil }
    FileManager.default.createFile(atPath: dir + "/h.json", contents: h)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    p.arguments = ["-v", "-o", dir + "/time.txt", applyPath, "--threads", "\(threads)", "--hparams", dir + "/h.json", "--stats-text", statsText,
                   "-o", dir + "/out.gguf", "--sidecar", dir + "/out.prune", model, dir + "/edits.jsonl"]
    var env = ProcessInfo.processInfo.environment
    env["PRUNE_CACHE"] = dir + "/cache"
    p.environment = env
    p.standardOutput = FileHandle.nullDevice
    let t0 = now()
    do { try p.run() } catch { note("rss: cannot run \(applyPath): \(error)"); return nil }
    p.waitUntilExit()
    let seconds = now() - t0
    guard p.terminationStatus == 0, let t = try? String(contentsOfFile: dir + "/time.txt", encoding: .utf8),
          let l = t.split(separator: "\n").first(where: { $0.contains("Maximum resident set size") }),
          let kib = Int(l.split(separator: " ").last ?? "") else {
        note("rss: \(applyPath) on \(model) failed (status \(p.terminationStatus))")
        return nil
    }
    return (kib, seconds)
}

for name in cases {
    guard ["gpt2-tiny", "llama-tiny", "smol"].contains(name) || ggufCases[name] != nil else { fail("unknown case \(name)") }
    let folder = name == "smol" ? smolFolder : ggufCases[name]?.path ?? fixtures + "/" + name
    if ggufCases[name] != nil {
        guard FileManager.default.fileExists(atPath: folder) else { fail("\(folder): no such file (make it: python Benchmarks/scripts/make_models.py cache)") }
    } else if !FileManager.default.fileExists(atPath: folder + "/config.json") {
        fail("\(folder): no Hugging Face folder" + (name == "smol" ? " (make it: python Benchmarks/scripts/gguf_to_hf.py SmolLM2-135M-Instruct.F32.gguf \(folder))" : ""))
    }
    let hwm0 = vmHWM()
    let model: LanguageModel, tok: RuntimeTokenizer, net: FactModel
    do {
        // As the fact engine loads it: the weights stay as stored.
        model = try LanguageModel.load(folder, options: LoadOptions(threads: threads))
        tok = RuntimeTokenizer(try TokenizerLoader.load(path: folder))
        net = FactModel(model)
    } catch { fail("\(folder): \(error)") }
    let c = makeCase(name, network: net)
    let layer = c.rome.layers[0]
    say("")
    say("\(c.name): \(net.config.layerCount) layers, d \(net.config.hiddenSize), ffn \(net.config.ffnSize), vocab \(net.config.vocabularySize); " +
        "ROME layer \(layer), \(c.rome.vNumGradSteps) steps, lr \(c.rome.vLR); MEMIT layers \(c.memit.layers), \(c.memit.vNumGradSteps) steps; \(c.templates.count) templates")

    // Key statistics at the ROME layer: 128 tokens a document, 20,000 tokens.
    let hwmLoaded = vmHWM()
    var t0 = now()
    var stats = KeyStatistics(modelHash: "bench", layer: layer, width: net.config.ffnSize)
    // (Not needed by `rss` alone: prune-apply computes its own.)
    if !parts.isDisjoint(with: ["stats", "rome", "memit"]) { do {
        stats = try StatisticsComputer(model: net, tokenizer: tok, threads: threads)
            .compute(text: try StatisticsText.load(path: c.statsText), layer: layer, modelHash: "bench", docTokens: 128, maxTokens: 20000,
                     maxDocuments: 100_000)
    } catch { fail("\(c.statsText): \(error)") } }
    let statSeconds = now() - t0
    let hwmStats = vmHWM()
    let moment = stats.moment

    // ROME: the first `romeEdits` requests, each from the base model.
    t0 = now()
    for r in c.requests.prefix(parts.contains("rome") ? romeEdits : 0) {
        do {
            _ = try Rome(model: net, tokenizer: tok, hparams: c.rome, templates: c.templates, threads: threads)
                .compute(r, layer: layer) { k in try FactLinearAlgebra.solveSymmetric(moment, try Matrix(rows: k.count, cols: 1, values: k)).storage }
        } catch { fail("ROME \(r.subject): \(error)") }
    }
    let romeSeconds = (now() - t0) / Double(romeEdits)

    // MEMIT: one batch of 10 (the same C at every layer of the range: a timing, not an edit to keep).
    let groups = [["{}"], Array(c.templates.dropFirst())]
    var moments: [Int: Matrix?] = [:]
    for l in c.memit.layers { moments[l] = moment }
    t0 = now()
    if parts.contains("memit") { do {
        _ = try MemitBatch.run(model: net, tokenizer: tok, requests: c.requests, hparams: c.memit, templates: groups,
                               moments: moments, alpha: nil, threads: threads)
    } catch { fail("MEMIT: \(error)") } }
    let memitSeconds = now() - t0

    var torchResult: [String: Any]?
    if let py = torch {
        let reqs: [[String: Any]] = c.requests.map { ["prompt": $0.prompt, "subject": $0.subject, "target": $0.target] }
        var rome = hpJSON(c.rome)
        rome["n"] = romeEdits
        var memit = hpJSON(c.memit)
        memit["n"] = c.requests.count
        memit["layers"] = c.memit.layers
        memit["lambda"] = c.memit.mom2UpdateWeight
        memit["templates"] = groups
        let isGGUF = ggufCases[name] != nil
        let work: [String: Any] = [
            "model": isGGUF ? URL(fileURLWithPath: c.folder).deletingLastPathComponent().path : c.folder,
            "gguf": isGGUF ? URL(fileURLWithPath: c.folder).lastPathComponent : "", "threads": threads, "mode": "edits", "layer": layer, "templates": c.templates, "requests": reqs,
            "rome": rome, "memit": memit, "parts": Array(parts).sorted(), "stats": ["text": c.statsText, "doc_tokens": 128, "max_tokens": 20000] as [String: Any],
        ]
        torchResult = runTorch(py, work)
    }
    func num(_ key: String) -> Double? { (torchResult?[key] as? NSNumber)?.doubleValue }
    func ratio(_ key: String, _ ours: Double) -> String {
        guard let t = num(key) else { return "" }
        return String(format: "; torch %.3f s: prune %.2f× faster", t, t / ours)
    }
    if parts.contains("rome") { say(String(format: "  ROME: %.3f s per edit", romeSeconds) + ratio("rome_seconds", romeSeconds)) }
    if parts.contains("memit") {
        say(String(format: "  MEMIT batch of %d: %.3f s", c.requests.count, memitSeconds) + ratio("memit_seconds", memitSeconds))
    }
    if parts.contains("rss") {
        let file = ((try? FileManager.default.attributesOfItem(atPath: folder)[.size] as? Int) ?? nil) ?? 0
        let stats: [String: Any] = ["stats_doc_tokens": 128, "stats_max_tokens": 20000]
        func hp(_ h: FactHyperparameters) -> [String: Any] {
            stats.merging(["v_num_grad_steps": h.vNumGradSteps, "context_templates": c.templates, "layers": h.layers]) { $1 }
        }
        let r0 = c.requests[0]
        let rome = #"{"kind": "rome", "prompt": \#(JSONText.quote(r0.prompt)), "subject": \#(JSONText.quote(r0.subject)), "target": \#(JSONText.quote(r0.target))}"#
        let reqs = c.requests.map { #"{"prompt": \#(JSONText.quote($0.prompt)), "subject": \#(JSONText.quote($0.subject)), "target": \#(JSONText.quote($0.target))}"# }
        let memit = #"{"kind": "memit", "requests": [\#(reqs.joined(separator: ", "))]}"#
        for (what, line, h) in [("ROME", rome, hp(c.rome)), ("MEMIT batch of \(c.requests.count)", memit, hp(c.memit))]
        where ggufCases[name] != nil || name == "smol" {
            guard let got = applyPeak(model: folder, line: line, hparams: h, statsText: c.statsText) else { continue }
            say(String(format: "  prune-apply %@ (layers %@): peak RSS %@, the file %@: peak − file %@ (%.0f s)", what,
                       h["layers"].map { "\($0)" } ?? "?", mib(got.kib), mib(file / 1024), mib(got.kib - file / 1024), got.seconds))
        }
    }
    guard parts.contains("stats") else { continue }
    let tps = Double(stats.count) / statSeconds
    var line = String(format: "  statistics: %d tokens, %.0f tokens/s, peak RSS %@ (+%@ while computing C, %d × %d float64 = %.1f MiB)",
                      stats.count, tps, mib(hwmStats), mib(max(0, hwmStats - hwmLoaded)), stats.width, stats.width,
                      Double(stats.width * stats.width * 8) / 1048576)
    if let ts = num("stats_seconds"), let tt = num("stats_tokens"), let h0 = num("stats_hwm_before_kib"), let h1 = num("stats_hwm_after_kib") {
        line += String(format: "; torch %.0f tokens/s (%.0f tokens), peak RSS %@ (+%@): prune %.2f× faster", tt / ts, tt,
                       mib(Int(h1)), mib(max(0, Int(h1 - h0))), tps / (tt / ts))
    }
    say(line)
    _ = hwm0
}
let loadEnd = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)
say("")
say("load average at end: \(loadEnd?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")
