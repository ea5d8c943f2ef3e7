// prune-fuzz: a seeded, deterministic, time-bounded mutation fuzzer over the safetensors and GGUF
// parsers (buffer, streaming and zstd paths), starting from the fixtures' headers and small
// synthetic files.
//
// usage: prune-fuzz [--seconds N] [--runs N] [--seed S] [--fixtures DIR] [--crash-dir DIR]
// --runs stops after exactly N inputs (then the run is the same on any machine, however fast);
// with --runs and no --seconds there is no time bound.
// On a trap or crash, the input being parsed is written to CRASH_DIR/crash-<seed>-<n>.bin and the
// process exits 99. Otherwise it prints a summary line and exits 0.
import Foundation
import CZstd
import PruneKit
import PruneFormats

var seconds = 30.0
var secondsGiven = false
var maxRuns = Int.max
var seed: UInt64 = 1
var fixtures = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"] ?? "../shared/fixtures"
var crashDir = "."
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    guard let v = args.first else { FileHandle.standardError.write(Data("prune-fuzz: \(a) needs a value\n".utf8)); exit(64) }
    args.removeFirst()
    switch a {
    case "--seconds": seconds = Double(v) ?? seconds; secondsGiven = true
    case "--runs": maxRuns = Int(v) ?? maxRuns
    case "--seed": seed = UInt64(v) ?? seed
    case "--fixtures": fixtures = v
    case "--crash-dir": crashDir = v
    default: FileHandle.standardError.write(Data("prune-fuzz: unknown argument \(a)\n".utf8)); exit(64)
    }
}

if maxRuns != Int.max && !secondsGiven { seconds = .infinity }

// MARK: crash capture

nonisolated(unsafe) var currentInput: UnsafeMutableRawPointer? = nil
nonisolated(unsafe) var currentCount = 0
nonisolated(unsafe) var crashPathC: UnsafeMutablePointer<CChar>? = nil

func setCrashPath(_ p: String) {
    if let old = crashPathC { free(old) }
    crashPathC = strdup(p)
}

let handler: @convention(c) (Int32) -> Void = { sig in
    if let path = crashPathC {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd >= 0, let p = currentInput { _ = write(fd, p, currentCount); close(fd) }
    }
    _exit(99)
}
for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] { signal(sig, handler) }

// MARK: RNG and seeds

struct RNG {
    var s: UInt64
    mutating func next() -> UInt64 {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27
        return s &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func gstr(_ s: String) -> [UInt8] { le64(UInt64(s.utf8.count)) + Array(s.utf8) }

func syntheticSafetensors() -> [UInt8] {
    let h = Array(#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},"c":{"dtype":"F4","shape":[4],"data_offsets":[32,34]}}"#.utf8)
    return le64(UInt64(h.count)) + h + (0..<34).map { UInt8($0) }
}

func syntheticGGUF() -> [UInt8] {
    var b = Array("GGUF".utf8) + le32(3) + le64(3) + le64(4)
    b += gstr("general.architecture") + le32(8) + gstr("llama")
    b += gstr("general.alignment") + le32(4) + le32(32)
    b += gstr("tokens") + le32(9) + le32(8) + le64(2) + gstr("a") + gstr("bc")
    b += gstr("nested") + le32(9) + le32(9) + le64(1) + le32(6) + le64(2) + le32(0) + le32(0x3f80_0000)
    for (name, type, ne, off) in [("t.a", UInt32(0), [UInt64(4), 2], UInt64(0)), ("t.b", 8, [32], 32), ("t.c", 12, [256], 96)] {
        b += gstr(name) + le32(UInt32(ne.count)) + ne.flatMap { le64($0) } + le32(type) + le64(off)
    }
    while b.count % 32 != 0 { b.append(0) }
    return b + [UInt8](repeating: 7, count: 96 + 144)
}

func zstdCompress(_ data: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
    let n = out.withUnsafeMutableBytes { o in data.withUnsafeBytes { i in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, 3) } }
    return ZSTD_isError(n) != 0 ? [] : Array(out[0..<n])
}

var seeds: [[UInt8]] = [syntheticSafetensors(), syntheticGGUF()]
for model in ["gpt2-tiny", "llama-tiny"] {
    for file in ["model.safetensors", "model-f32.gguf", "model-q4_k_m.gguf"] {
        let path = fixtures + "/" + model + "/" + file
        guard let h = try? ModelFile(path: path) else {
            FileHandle.standardError.write(Data("prune-fuzz: cannot read fixture \(path)\n".utf8))
            exit(1)
        }
        // The header (with its padding) and the first bytes of data: mutations of sizes and
        // offsets then meet a truncated data section, which is the interesting boundary.
        seeds.append(h.headerBytes + (try h.data(for: h.tensors[0].name).prefix(4096)))
    }
}
let zSeeds = seeds.prefix(2).map(zstdCompress)

let interesting32: [UInt32] = [0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]
let interesting64: [UInt64] = [0, 1, 4, 24, 32, 64, 100_000_000, 100_000_001, 1 << 31, 1 << 32, 1 << 62, 1 << 63, UInt64.max, UInt64.max - 1]

func mutate(_ input: [UInt8], rng: inout RNG, seeds: [[UInt8]]) -> [UInt8] {
    var b = input
    let rounds = 1 + rng.below(4)
    for _ in 0..<rounds {
        if b.isEmpty { b = [UInt8(truncatingIfNeeded: rng.next())]; continue }
        let at = rng.below(b.count)
        switch rng.below(11) {
        case 0: b[at] ^= UInt8(1 << rng.below(8))
        case 1: b[at] = [0, 0xFF, 0x7F, 0x80, 0x22, 0x5C, 0x2C, 0x7B, 0x7D][rng.below(9)]
        case 2:
            let v = le32(interesting32[rng.below(interesting32.count)])
            for k in 0..<min(4, b.count - at) { b[at + k] = v[k] }
        case 3:
            let v = le64(interesting64[rng.below(interesting64.count)] &+ UInt64(rng.below(3)) &- 1)
            for k in 0..<min(8, b.count - at) { b[at + k] = v[k] }
        case 4: b.removeSubrange(at..<min(b.count, at + 1 + rng.below(16)))
        case 5: b.insert(contentsOf: (0..<(1 + rng.below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 6: b = Array(b.prefix(at))
        case 7:
            let len = min(b.count - at, 1 + rng.below(64))
            let chunk = Array(b[at..<(at + len)])
            b.insert(contentsOf: chunk, at: rng.below(b.count))
        case 8:
            let other = seeds[rng.below(seeds.count)]
            let from = rng.below(max(1, other.count))
            let len = min(other.count - from, 1 + rng.below(256))
            if len > 0 { b.replaceSubrange(at..<min(b.count, at + len), with: other[from..<(from + len)]) }
        case 9:
            // ASCII digit edits inside JSON numbers
            if b[at] >= 0x30 && b[at] <= 0x39 { b.insert(contentsOf: Array("9999999999".utf8), at: at) }
            else { b[at] = UInt8(0x30 + rng.below(10)) }
        default: b.append(contentsOf: (0..<(1 + rng.below(40))).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
    }
    return b
}

// MARK: loop

var rng = RNG(s: seed &* 0x9E37_79B9_7F4A_7C15 | 1)
let start = Date()
var runs = 0, accepted = 0, slowest = 0.0
var errorKinds: [String: Int] = [:]
setCrashPath(crashDir + "/crash-\(seed).bin")
let modes = ParserFuzzEntry.Mode.allCases
while runs < maxRuns && Date().timeIntervalSince(start) < seconds {
    for _ in 0..<50 where runs < maxRuns {
        let useZstd = rng.below(16) == 0
        let base = useZstd ? zSeeds[rng.below(zSeeds.count)] : seeds[rng.below(seeds.count)]
        let input = rng.below(20) == 0 ? base : mutate(base, rng: &rng, seeds: seeds)
        let mode: ParserFuzzEntry.Mode = useZstd ? .zstd : modes[rng.below(2)]
        let step = [1, 3, 7, 64, 4096, 1 << 20][rng.below(6)]
        input.withUnsafeBytes { p in
            currentInput = UnsafeMutableRawPointer(mutating: p.baseAddress)
            currentCount = p.count
        }
        let t0 = Date()
        do {
            try input.withUnsafeBytes { _ in try ParserFuzzEntry.check(input, mode: mode, step: step) }
            accepted += 1
        } catch {
            let kind = String(String(describing: error).prefix(while: { $0 != "(" }))
            errorKinds[kind, default: 0] += 1
            let m = (error as? LocalizedError)?.errorDescription ?? ""
            if m.isEmpty || m.contains("\n") || !m.hasPrefix("fuzz-input: ") {
                FileHandle.standardError.write(Data("prune-fuzz: bad error message for input \(runs): \(m)\n".utf8))
                exit(2)
            }
        }
        slowest = max(slowest, Date().timeIntervalSince(t0))
        runs += 1
    }
}
let kinds = errorKinds.sorted { $0.value > $1.value }.prefix(12).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
print(String(format: "prune-fuzz: seed %llu, %.0f s, %d inputs (%.0f/s), %d accepted, 0 crashes, slowest %.1f ms", seed,
             Date().timeIntervalSince(start), runs, Double(runs) / Date().timeIntervalSince(start), accepted, slowest * 1000))
print("prune-fuzz: error kinds: \(kinds)")
