// prune-bench-sidecar: where prune-apply spends its time, and what memory edits and diffs take.
//
// usage: prune-bench-sidecar [--case split|memory|all] [--runs N] [--dir DIR] [--tools DIR] [--keep]
//
// --case split (issue 11): one 6400×1600 f32 tensor, 100 rank-1 edits with inline base64 factors,
//   restrained strongly. Runs apply in-process N times (default 3) and prints the median split —
//   read, restraint, materialise, residual, compression, write, model output — and the share of the
//   wall time that exists only to write the sidecar (residual + compression + write; target ≤ 20 %),
//   with the sidecar's size by part. Every run's sidecar must be byte-identical to the first's.
// --case memory (issue 12): a 1.2 GB f32 model of 18 tensors 4096×4096 (64 MiB each). Peak RSS of
//   prune-apply with an empty manifest (the baseline) and with a rank-2 edit of one tensor, and of
//   prune-diff and prune-diff --sidecar against a copy with two tensors changed at rank 4, each as a
//   child process (wait4), in units of the edited tensor's f32 size above the baseline (target ≤ 3).
//   --tools DIR runs the prune-* executables of DIR (default: next to this one), e.g. an older build.
import BenchSupport
import Foundation
import PruneFormats
import PruneKit

struct Options {
    var cases = ["split"]
    var runs = 3
    var dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    var tools: String?
    var keep = false
}

var opts = Options()
do {
    let argv = CommandLine.arguments
    var i = 1
    func value() -> String {
        i += 1
        guard i < argv.count else { fail("\(argv[i - 1]) needs a value") }
        return argv[i]
    }
    while i < argv.count {
        switch argv[i] {
        case "--case":
            let c = value()
            opts.cases = c == "all" ? ["split", "memory"] : [c]
        case "--runs": opts.runs = max(1, Int(value()) ?? 3)
        case "--dir": opts.dir = value()
        case "--tools": opts.tools = value()
        case "--keep": opts.keep = true
        default: fail("unknown argument \(argv[i])")
        }
        i += 1
    }
}

// MARK: deterministic data

/// Weight-like values: Gaussian, column scales decaying like a trained layer's spectrum.
func weights(rows: Int, cols: Int, rng: inout RNG) -> [Float] {
    var w = [Float](repeating: 0, count: rows * cols)
    let colScale = (0..<cols).map { Float(0.02 / (1 + Double($0) / 64).squareRoot()) }
    for i in 0..<rows { for j in 0..<cols { w[i * cols + j] = Float(rng.normal()) * colScale[j] } }
    return w
}

func writeSafetensors(_ path: String, tensors: [(String, [Float], [Int])]) throws {
    var b = SafetensorsBuilder()
    b.setMetadata("format", "pt")
    for (name, values, shape) in tensors { try b.add(name, f32: values, shape: shape) }
    guard FileManager.default.createFile(atPath: path, contents: Data(try b.build())) else { fail("cannot write \(path)") }
}

func b64(_ v: [Float], shape: [Int]) -> String {
    let data = v.withUnsafeBytes { Data($0) }
    return "{\"b64\": \"\(data.base64EncodedString())\", \"shape\": [\(shape.map(String.init).joined(separator: ", "))]}"
}

func fileSize(_ p: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }

func selfDir() -> String { URL(fileURLWithPath: selfPath()).deletingLastPathComponent().path }

let work = opts.dir + "/prune-bench-sidecar-\(getpid())"
try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { if !opts.keep { try? FileManager.default.removeItem(atPath: work) } }
let cores = ProcessInfo.processInfo.activeProcessorCount

// MARK: split

@MainActor func splitCase() throws {
    let rows = 6400, cols = 1600
    var rng = RNG(s: 0x5EED_0011)
    let w = weights(rows: rows, cols: cols, rng: &rng)
    let model = work + "/split.safetensors"
    try writeSafetensors(model, tensors: [("model.layers.0.mlp.down_proj.weight", w, [rows, cols]),
                                          ("model.norm.weight", [Float](repeating: 1, count: cols), [cols])])
    let sigma = try SpectralNorm.estimate(weights: w, rows: rows, cols: cols).sigmaMax
    var lines: [String] = []
    for e in 0..<100 {
        var u = (0..<rows).map { _ in Float(rng.normal()) }, v = (0..<cols).map { _ in Float(rng.normal()) }
        let nu = Float(u.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot())
        let nv = Float(v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot())
        u = u.map { $0 / nu * Float(2 * sigma) }
        v = v.map { $0 / nv }
        lines.append("{\"id\": \"e\(e)\", \"kind\": \"lowrank\", \"tensor\": \"model.layers.0.mlp.down_proj.weight\", "
                     + "\"u\": \(b64(u, shape: [rows, 1])), \"v\": \(b64(v, shape: [cols, 1])), \"scale\": 1.0}")
    }
    let manifest = work + "/edits.jsonl"
    try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
    print("prune-bench-sidecar split: 6400x1600 f32, 100 rank-1 edits inline base64 (manifest \(fileSize(manifest)) bytes), "
          + "\(cores) cores, \(opts.runs) runs + 1 warm-up")
    var results: [ApplyTimings] = []
    var first: [UInt8]?
    var last: ApplyResult?
    for r in 0...opts.runs {
        let sidecar = work + "/run\(r).prune"
        let req = ApplyRequest(model: model, manifest: manifest, output: .file(work + "/out.safetensors.zst"), sidecar: sidecar)
        let res = try Apply.run(req)
        let bytes = [UInt8](FileManager.default.contents(atPath: sidecar) ?? Data())
        if let first, first != bytes { fail("run \(r): the sidecar differs from the first run's") }
        first = first ?? bytes
        if r > 0 { results.append(res.timings) }
        last = res
    }
    func median(_ k: (ApplyTimings) -> Double) -> Double {
        let v = results.map(k).sorted()
        return v[v.count / 2]
    }
    let total = median { $0.total }
    let fields: [(String, (ApplyTimings) -> Double)] = [
        ("read", { $0.read }), ("restraint", { $0.restraint }), ("materialise", { $0.materialise }),
        ("residual", { $0.residual }), ("compression", { $0.compression }), ("write", { $0.write }),
        ("model output", { $0.modelOutput })]
    for (name, k) in fields {
        print("  " + name.padding(toLength: 13, withPad: " ", startingAt: 0)
              + String(format: " %7.3f s  %5.1f %%", median(k), 100 * median(k) / total))
    }
    let sidecarShare = results.map { $0.sidecar / $0.total }.sorted()[results.count / 2]
    print("  total        " + String(format: " %7.3f s", total))
    print(String(format: "sidecar writing (residual + compression + write): %.1f %% of apply's wall time (target ≤ 20 %%)",
                 100 * sidecarShare))
    if let s = last?.sidecar.tensors.first {
        let terms = s.terms.reduce(0) { acc, t in
            switch t.delta {
            case .lowRank(let u, let v, _): return acc + 4 * (u.count + v.count)
            case .dense(let d): return acc + 4 * d.count
            }
        }
        let container = try ModelFile(path: work + "/run1.prune")
        let manifestStored = try container.data(for: "manifest.0").count
        print("sidecar \(fileSize(work + "/run1.prune")) bytes: residual \(s.residual.count) (\(s.residualCodec)), raw terms \(terms), "
              + "restrained factors \(4 * (s.restrained.u.count + s.restrained.v.count)), manifest copy \(manifestStored) "
              + "(of \(fileSize(manifest)): inline factors quoted from the raw terms)")
    }
}

// MARK: memory

@MainActor func memoryCase() throws {
    let tools = opts.tools ?? selfDir()
    let n = 4096
    var rng = RNG(s: 0x5EED_0012)
    let a = work + "/a.safetensors", b = work + "/b.safetensors"
    do {
        // Streamed: one tensor in memory at a time.
        var entries: [String] = []
        for t in 0..<18 {
            let off = t * n * n * 4
            entries.append("\"layers.\(t).weight\":{\"dtype\":\"F32\",\"shape\":[\(n),\(n)],\"data_offsets\":[\(off),\(off + n * n * 4)]}")
        }
        var header = Array(("{\"__metadata__\":{\"format\":\"pt\"}," + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let prefix = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * $0)) } + header
        guard FileManager.default.createFile(atPath: a, contents: Data(prefix)),
              FileManager.default.createFile(atPath: b, contents: Data(prefix)),
              let ha = FileHandle(forWritingAtPath: a), let hb = FileHandle(forWritingAtPath: b) else { fail("cannot create \(a)") }
        ha.seekToEndOfFile(); hb.seekToEndOfFile()
        for t in 0..<18 {
            var w = weights(rows: n, cols: n, rng: &rng)
            w.withUnsafeBytes { ha.write(Data($0)) }
            if t == 7 || t == 11 {
                let u = (0..<(n * 4)).map { _ in Float(rng.normal() * 0.01) }, v = (0..<(n * 4)).map { _ in Float(rng.normal()) }
                try FactoredDelta(rows: n, cols: n, rank: 4, u: u, v: v).add(to: &w)
            }
            w.withUnsafeBytes { hb.write(Data($0)) }
        }
        try ha.close(); try hb.close()
    }
    let u = (0..<(n * 2)).map { _ in Float(rng.normal() * 0.05) }, v = (0..<(n * 2)).map { _ in Float(rng.normal()) }
    try ("{\"id\": \"r2\", \"kind\": \"lowrank\", \"tensor\": \"layers.7.weight\", \"u\": \(b64(u, shape: [n, 2])), \"v\": \(b64(v, shape: [n, 2]))}\n")
        .write(toFile: work + "/rank2.jsonl", atomically: true, encoding: .utf8)
    try "".write(toFile: work + "/empty.jsonl", atomically: true, encoding: .utf8)
    let tensorMiB = Double(n * n * 4) / Double(1 << 20)
    print("prune-bench-sidecar memory: \(fileSize(a)) bytes, 18 f32 tensors 4096x4096 (\(Int(tensorMiB)) MiB each), tools in \(tools)")
    _ = spawn("cat", [a], stdout: .null, stderr: .null); _ = spawn("cat", [b], stdout: .null, stderr: .null)
    func run(_ tool: String, _ args: [String]) -> ChildRun {
        let r = spawn(tools + "/" + tool, args, stdout: .null, stderr: .null)
        guard r.status == 0 else { fail("\(tool) \(args.joined(separator: " ")) failed (status \(r.status))") }
        return r
    }
    let empty = run("prune-apply", [a, work + "/empty.jsonl", "-o", work + "/e.zst", "--sidecar", work + "/e.prune"])
    let edit = run("prune-apply", [a, work + "/rank2.jsonl", "-o", work + "/r.zst", "--sidecar", work + "/r.prune"])
    let revert = run("prune-revert", [work + "/r.zst", work + "/r.prune", "-o", work + "/back.safetensors"])
    let same = run("prune-diff", [a, a])
    let diff = run("prune-diff", [a, b])
    let diffSidecar = run("prune-diff", [a, b, "--sidecar", work + "/d.prune"])
    func line(_ name: String, _ r: ChildRun, _ base: ChildRun) {
        let over = Double(r.maxRSSKiB - base.maxRSSKiB) / 1024
        print("  " + name.padding(toLength: 34, withPad: " ", startingAt: 0)
              + String(format: "%6.2f s  peak %6d MiB  %+7.0f MiB = %.2f x the tensor", r.seconds, r.maxRSSKiB / 1024, over,
                       over / tensorMiB))
    }
    line("apply, empty manifest (baseline)", empty, empty)
    line("apply, rank-2 edit of one tensor", edit, empty)
    line("revert of that edit", revert, empty)
    line("diff A A (baseline)", same, same)
    line("diff A B (2 tensors rank 4)", diff, same)
    line("diff A B --sidecar", diffSidecar, same)
}

for c in opts.cases {
    switch c {
    case "split": try splitCase()
    case "memory": try memoryCase()
    default: fail("unknown case \(c)")
    }
}
