// prune-bench-tokenize: tokens per second of PruneTokenizers against the models' own libraries,
// on the same texts and thread count, measured in the same run:
//   - gpt2-tiny (byte-level BPE): Hugging Face `tokenizers` on tokenizer.json;
//   - llama-tiny (SentencePiece BPE): the `sentencepiece` library on tokenizer.model.
// Cases: one thread over many short texts (tokenizers' encode_batch with TOKENIZERS_PARALLELISM=false /
// sentencepiece with num_threads=1), one thread on one long text, and all threads over many texts
// (RAYON_NUM_THREADS / num_threads = the same count). Both sides' ids are checked equal (FNV-1a).
//
// usage: prune-bench-tokenize [--megabytes N] [--threads N] [--repeats N] [--fixtures DIR]
import Foundation
import PruneTokenizers

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("prune-bench-tokenize: \(message)\n".utf8))
    exit(1)
}

var megabytes = 4
var threads = ProcessInfo.processInfo.activeProcessorCount
var repeats = 3
var fixtures = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"]
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
let argv = CommandLine.arguments
var i = 1
while i < argv.count {
    func value() -> String {
        i += 1
        guard i < argv.count else { fail("\(argv[i - 1]) needs a value") }
        return argv[i]
    }
    switch argv[i] {
    case "--megabytes": megabytes = Int(value()) ?? megabytes
    case "--threads": threads = Int(value()) ?? threads
    case "--repeats": repeats = Int(value()) ?? repeats
    case "--fixtures": fixtures = value()
    default: fail("unknown argument \(argv[i])")
    }
    i += 1
}

// MARK: corpus: both fixtures' heldout lines, repeated to the size asked for.
var lines: [String] = []
for m in ["gpt2-tiny", "llama-tiny"] {
    guard let text = try? String(contentsOfFile: fixtures + "/" + m + "/heldout.txt", encoding: .utf8) else { fail("cannot read \(fixtures)/\(m)/heldout.txt") }
    lines += text.split(separator: "\n").map(String.init)
}
var corpus: [String] = []
var bytes = 0
while bytes < megabytes << 20 {
    for l in lines { corpus.append(l); bytes += l.utf8.count + 1 }
}
let longText = corpus.prefix(2000).joined(separator: "\n")

let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("prune-bench-tokenize-\(UUID().uuidString)").path
try? FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }
let corpusPath = tmp + "/corpus.json"
let longPath = tmp + "/long.json"
func writeJSON(_ texts: [String], _ path: String) {
    let data = try! JSONSerialization.data(withJSONObject: texts)
    try! data.write(to: URL(fileURLWithPath: path))
}
writeJSON(corpus, corpusPath)
writeJSON([longText], longPath)

// MARK: the baseline, in Python.
let script = #"""
import json, os, sys, time
kind, model, path, threads, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
texts = json.load(open(path, encoding="utf-8"))
def fnv(all_ids):
    h = 0xcbf29ce484222325
    for ids in all_ids:
        for i in ids:
            h ^= i & 0xffffffff
            h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h
if kind == "hf":
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    run = lambda: [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)] if len(texts) > 1 else [tok.encode(texts[0], add_special_tokens=False).ids]
else:
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model, "tokenizer.model"))
    run = lambda: sp.encode(texts, num_threads=threads)
run()
best = None
for _ in range(repeats):
    t = time.perf_counter(); ids = run(); dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "tokens": sum(len(x) for x in ids), "fnv": fnv(ids)}))
"""#
let scriptPath = tmp + "/baseline.py"
try! Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))

func baseline(_ kind: String, _ model: String, _ path: String, threads: Int, repeats: Int) -> (seconds: Double, tokens: Int, fnv: UInt64) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", scriptPath, kind, model, path, String(threads), String(repeats)]
    var env = ProcessInfo.processInfo.environment
    env["TOKENIZERS_PARALLELISM"] = threads > 1 ? "true" : "false"
    env["RAYON_NUM_THREADS"] = String(threads)
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    do { try p.run() } catch { fail("cannot run python3: \(error)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let s = o["seconds"] as? Double, let t = o["tokens"] as? Int, let f = o["fnv"] as? NSNumber else {
        fail("baseline \(kind) failed")
    }
    return (s, t, f.uint64Value)
}

func fnv(_ all: [[Int32]]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for ids in all { for i in ids { h ^= UInt64(UInt32(bitPattern: i)); h = h &* 0x100_0000_01b3 } }
    return h
}

/// Shares the output buffer with the worker threads (each writes its own indices).
struct SharedOutput: @unchecked Sendable { let buffer: UnsafeMutableBufferPointer<[Int32]> }

func ours(_ tok: Tokenizer, _ texts: [String], threads: Int, repeats: Int) -> (seconds: Double, tokens: Int, fnv: UInt64) {
    var best = Double.infinity
    var result: [[Int32]] = []
    for r in 0...repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        var out = [[Int32]](repeating: [], count: texts.count)
        if threads == 1 {
            for (k, t) in texts.enumerated() { out[k] = tok.encode(t, addSpecialTokens: false) }
        } else {
            let chunk = max(1, (texts.count + threads * 8 - 1) / (threads * 8))
            let chunks = (texts.count + chunk - 1) / chunk
            out.withUnsafeMutableBufferPointer { buf in
                let shared = SharedOutput(buffer: buf)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    for k in (c * chunk)..<min(texts.count, (c + 1) * chunk) { shared.buffer[k] = tok.encode(texts[k], addSpecialTokens: false) }
                }
            }
        }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if r > 0 { best = min(best, dt) }   // the first run warms up
        result = out
    }
    return (best, result.reduce(0) { $0 + $1.count }, fnv(result))
}

print("prune-bench-tokenize: \(corpus.count) texts, \(bytes >> 10) KiB; long text \(longText.utf8.count >> 10) KiB; best of \(repeats); \(threads) threads for the parallel case")
print("  model                 case                    ours tok/s    baseline tok/s   ratio  (baseline)")
for (name, kind, label) in [("gpt2-tiny", "hf", "tokenizers"), ("llama-tiny", "sp", "sentencepiece")] {
    let folder = fixtures + "/" + name
    let tok: Tokenizer
    do { tok = try TokenizerLoader.load(path: folder) } catch { fail((error as? LocalizedError)?.errorDescription ?? "\(error)") }
    var cases: [(String, [String], String, Int)] = [("1 thread, many texts", corpus, corpusPath, 1), ("1 thread, one long text", [longText], longPath, 1)]
    if threads > 1 { cases.append(("\(threads) threads, many texts", corpus, corpusPath, threads)) }
    for (caseName, texts, path, n) in cases {
        let a = ours(tok, texts, threads: n, repeats: repeats)
        let b = baseline(kind, folder, path, threads: n, repeats: repeats)
        guard a.tokens == b.tokens && a.fnv == b.fnv else { fail("\(name) \(caseName): ids differ from \(label)'s (\(a.tokens) vs \(b.tokens) tokens)") }
        let ra = Double(a.tokens) / a.seconds, rb = Double(b.tokens) / b.seconds
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        print("  " + pad(name, 20) + "  " + pad(caseName, 22) + String(format: "  %12.0f  %14.0f  %6.2fx", ra, rb, ra / rb) + "  (\(label))")
    }
}
