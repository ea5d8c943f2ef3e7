// prune-bench-io: identity rewrite (read → SHA-256 → zstd -3, all cores → file) against
// `zstd -T0 -3 < in > out`, measured in the same run on generated weight-like safetensors files.
//
// usage: prune-bench-io [--sizes 256,1024] [--dir DIR] [--keep]
// Each measured command runs as a child process (posix_spawn + wait4) so its peak RSS is its own.
import BenchSupport
import Foundation
import PruneKit
import PruneFormats

struct Options {
    var sizesMiB = [256, 1024]
    var dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    var keep = false
}

// MARK: child mode: one identity rewrite, used for the timed runs.
let argv = CommandLine.arguments
if argv.count == 4, argv[1] == "--rewrite" {
    do {
        let s = try ModelRewriter(input: argv[2], output: .file(argv[3]), options: OutputOptions(compress: true, level: 3, threads: 0)).run()
        print(s.inputSHA256)
        exit(0)
    } catch {
        fail((error as? LocalizedError)?.errorDescription ?? "\(error)")
    }
}

var opts = Options()
var i = 1
while i < argv.count {
    switch argv[i] {
    case "--sizes":
        i += 1
        guard i < argv.count else { fail("--sizes needs a value") }
        opts.sizesMiB = argv[i].split(separator: ",").compactMap { Int($0) }
    case "--dir":
        i += 1
        guard i < argv.count else { fail("--dir needs a value") }
        opts.dir = argv[i]
    case "--keep": opts.keep = true
    default: fail("unknown argument \(argv[i])")
    }
    i += 1
}

// MARK: deterministic weight-like data

/// Approximately normal values (sum of 4 uniforms, centred) scaled like trained weights.
func fillWeights(_ out: UnsafeMutableBufferPointer<Float>, rng: inout RNG, scale: Float) {
    for k in 0..<out.count {
        let r = rng.next()
        let a = Float(r & 0xFFFF) + Float((r >> 16) & 0xFFFF) + Float((r >> 32) & 0xFFFF) + Float(r >> 48)
        out[k] = (a / 65535 - 2) * scale
    }
}

/// Writes a safetensors file of about `mib` MiB: 16 MiB tensors alternating F32 and BF16.
func generate(path: String, mib: Int, seed: UInt64) throws {
    let tensorBytes = 16 << 20
    let count = max(1, mib * (1 << 20) / tensorBytes)
    var entries: [String] = []
    var offset = 0
    for t in 0..<count {
        let bf16 = t % 2 == 1
        let cols = 4096
        let rows = tensorBytes / (bf16 ? 2 : 4) / cols
        entries.append("\"layers.\(t).weight\":{\"dtype\":\"\(bf16 ? "BF16" : "F32")\",\"shape\":[\(rows),\(cols)],\"data_offsets\":[\(offset),\(offset + tensorBytes)]}")
        offset += tensorBytes
    }
    var header = Array(("{\"__metadata__\":{\"format\":\"pt\"}," + entries.joined(separator: ",") + "}").utf8)
    while (8 + header.count) % 8 != 0 { header.append(0x20) }
    guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
        fail("cannot create \(path)")
    }
    var prefix = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * $0)) }
    prefix += header
    h.write(Data(prefix))
    var rng = RNG(s: seed | 1)
    var floats = [Float](repeating: 0, count: tensorBytes / 4)
    for t in 0..<count {
        let bf16 = t % 2 == 1
        floats.withUnsafeMutableBufferPointer { fillWeights($0, rng: &rng, scale: 0.02) }
        if bf16 {
            var half = [UInt16](repeating: 0, count: tensorBytes / 2)
            for k in 0..<floats.count { half[k] = UInt16(truncatingIfNeeded: floats[k].bitPattern >> 16) }
            floats.withUnsafeMutableBufferPointer { fillWeights($0, rng: &rng, scale: 0.02) }
            for k in 0..<floats.count { half[floats.count + k] = UInt16(truncatingIfNeeded: floats[k].bitPattern >> 16) }
            half.withUnsafeBytes { h.write(Data($0)) }
        } else {
            floats.withUnsafeBytes { h.write(Data($0)) }
        }
    }
    try h.close()
}

let work = opts.dir + "/prune-bench-io-\(getpid())"
try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { if !opts.keep { try? FileManager.default.removeItem(atPath: work) } }
let cores = ProcessInfo.processInfo.activeProcessorCount
print("prune-bench-io: identity rewrite vs zstd -T0 -3, \(cores) cores, files in \(work)")
var rows: [(Int, Double, Double, Int, Int)] = []
for (n, mib) in opts.sizesMiB.enumerated() {
    let input = work + "/in-\(mib).safetensors"
    try generate(path: input, mib: mib, seed: 0x5EED + UInt64(n))
    let size = (try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
    // Warm the page cache for both contenders.
    _ = spawn("cat", [input], stdout: .null)
    let base = spawn("zstd", ["-q", "-T0", "-3", "-c"], stdin: .file(input), stdout: .file(work + "/base.zst"))
    let ours = spawn(selfPath(), ["--rewrite", input, work + "/ours.zst"], stdout: .null)
    guard base.status == 0, ours.status == 0 else { fail("a run failed (zstd \(base.status), prune \(ours.status))") }
    let same = spawn("cmp", ["-s", work + "/base.zst", work + "/ours.zst"], stdout: .null).status == 0
    // Our output must decompress to the input.
    let check = spawn("sh", ["-c", "zstd -q -d -c '\(work)/ours.zst' | cmp -s - '\(input)'"], stdout: .null)
    guard check.status == 0 else { fail("output of the rewrite does not decompress to the input") }
    let mb = Double(size) / 1e6
    let oursT = mb / ours.seconds, baseT = mb / base.seconds
    let oursSize = (try FileManager.default.attributesOfItem(atPath: work + "/ours.zst")[.size] as? Int) ?? 0
    print(String(format: "%5d MiB: zstd %.2fs %.0f MB/s rss %d MiB | prune %.2fs %.0f MB/s rss %d MiB | ratio %.3f | compressed %.1f%%%@",
                 mib, base.seconds, baseT, base.maxRSSKiB / 1024, ours.seconds, oursT, ours.maxRSSKiB / 1024,
                 oursT / baseT, 100 * Double(oursSize) / Double(size), same ? " (byte-identical to zstd's)" : ""))
    rows.append((mib, oursT / baseT, oursT, ours.maxRSSKiB, base.maxRSSKiB))
    try? FileManager.default.removeItem(atPath: input)
    try? FileManager.default.removeItem(atPath: work + "/base.zst")
    try? FileManager.default.removeItem(atPath: work + "/ours.zst")
}
if let big = rows.last, let small = rows.first, rows.count > 1 {
    print(String(format: "targets: ratio ≥ 0.9 at %d MiB: %.3f; peak RSS ≤ 256 MiB: %d MiB; RSS growth %d → %d MiB: %+d MiB",
                 big.0, big.1, big.3 / 1024, small.0, big.0, (big.3 - small.3) / 1024))
}
