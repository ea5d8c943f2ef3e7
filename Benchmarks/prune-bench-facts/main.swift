import Foundation
import PruneFacts
import PruneFormats
import PruneKit
import PruneRuntime
import PruneTokenizers

// prune-bench-facts FIXTURE_DIR [--threads N] [--torch PYTHON]
// Seconds per ROME edit and per MEMIT batch of 10 on the fixture (the reference's hyperparameters,
// 11 templates, C over heldout.txt), statistics tokens/s and C's memory; with --torch, the torch
// reference ROME (fixtures/src/rome_ref.py) timed on the same model and thread count in the same run.
let args = CommandLine.arguments
guard args.count >= 2 else { FileHandle.standardError.write(Data("usage: prune-bench-facts FIXTURE_DIR [--threads N] [--torch PYTHON]\n".utf8)); exit(64) }
let dir = args[1]
var threads = 2
var torch: String?
var i = 2
while i < args.count {
    if args[i] == "--threads", i + 1 < args.count { threads = Int(args[i + 1]) ?? 2; i += 2 } else if args[i] == "--torch", i + 1 < args.count { torch = args[i + 1]; i += 2 } else { i += 1 }
}
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

let model = try LanguageModel.load(dir, options: LoadOptions(threads: threads))
let tok = RuntimeTokenizer(try TokenizerLoader.load(path: dir))
let net = FactNetwork(weights: try RuntimeNetwork.weights(of: model))
let ref = try JSONNodeParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/rome-reference.json"))))
let layer = Int(ref["layer"]!.nonNegativeInt!)
let ctx = HyperparameterContext(architecture: net.config.architecture == .gpt2 ? .gpt2 : .llama,
                                layerCount: net.config.layerCount, contextLength: net.config.contextLength)
var h = try HyperparameterDefaults.defaults(.rome, context: ctx).applying(HyperparameterSource(name: "ref", values: ref["hparams"]!), context: ctx)
h.layers = [layer]
h.earlyStopLoss = -1   // always the full number of steps, as the torch timing below
guard case .array(let ts)? = ref["context_templates"] else { exit(1) }
let templates = ts.compactMap(\.stringValue)

var t0 = now()
let text = try StatisticsText.load(path: dir + "/heldout.txt")
let stats = StatisticsComputer(network: net, tokenizer: tok, threads: threads)
    .compute(text: text, layer: layer, modelHash: "bench", docTokens: 128, maxTokens: 20000, maxDocuments: 100_000)
let statSeconds = now() - t0
let c = stats.moment
say(String(format: "statistics: %d tokens in %.2f s = %.0f tokens/s; C is %d × %d (%.1f MiB in float64)", stats.count, statSeconds,
           Double(stats.count) / statSeconds, stats.width, stats.width, Double(stats.width * stats.width * 8) / 1048576))

let reqs = try JSONNodeParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/requests.json"))))
guard case .array(let all) = reqs else { exit(1) }
let requests = all.prefix(10).map { q -> FactRequest in
    let rw = q["requested_rewrite"]!
    return FactRequest(prompt: rw["prompt"]!.stringValue!, subject: rw["subject"]!.stringValue!, target: rw["target_new"]!["str"]!.stringValue!)
}
t0 = now()
let romeN = 3
for r in requests.prefix(romeN) {
    _ = try Rome(network: net, tokenizer: tok, hparams: h, templates: templates, threads: threads)
        .compute(r, layer: layer) { k in try FactLinearAlgebra.solveSymmetric(c, try Matrix(rows: k.count, cols: 1, values: k)).storage }
}
let romeSeconds = (now() - t0) / Double(romeN)
say(String(format: "ROME: %.3f s per edit (%d steps, %d templates, %d threads)", romeSeconds, h.vNumGradSteps, templates.count, threads))

var hm = HyperparameterDefaults.defaults(.memit, context: ctx)
hm.layers = [max(0, layer - 1), layer]
hm.vNumGradSteps = h.vNumGradSteps
hm.vLR = h.vLR
hm.earlyStopLoss = -1
t0 = now()
_ = try MemitBatch.run(network: net, tokenizer: tok, requests: Array(requests), hparams: hm, templates: [["{}"], Array(templates.dropFirst())],
                       moments: [hm.layers[0]: c, layer: c], alpha: nil, threads: threads)
say(String(format: "MEMIT: %.2f s per batch of %d (layers %@, %d steps)", now() - t0, requests.count, "\(hm.layers)", hm.vNumGradSteps))

if let py = torch {
    let script = """
    import sys, time, json, torch
    sys.path.insert(0, sys.argv[1] + '/../src')
    import rome_ref
    torch.set_num_threads(int(sys.argv[2]))
    ref = json.load(open(sys.argv[1] + '/rome-reference.json'))
    hp = ref['hparams']
    r = rome_ref.Rome(sys.argv[1], layer=ref['layer'], steps=hp['v_num_grad_steps'], lr=hp['v_lr'], clamp=hp['clamp_norm_factor'], wd=hp['v_weight_decay'])
    reqs = json.load(open(sys.argv[1] + '/requests.json'))[:3]
    t = time.time()
    for q in reqs:
        rw = q['requested_rewrite']; r.compute(rw['prompt'], rw['subject'], rw['target_new']['str'])
    print((time.time() - t) / len(reqs))
    """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: py)
    p.arguments = ["-c", script, dir, String(threads)]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if let s = Double(text.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "") {
        say(String(format: "torch ROME: %.3f s per edit; prune is %.2f× torch", s, s / romeSeconds))
    } else {
        say("torch ROME: failed to run (\(py))")
    }
}
