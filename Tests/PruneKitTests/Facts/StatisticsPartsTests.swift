import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit
@testable import PruneRuntime

/// `prune-stats compute --part K/N` on N local processes (standing in for N machines), then
/// `prune-stats merge`: the merged file is byte-identical to one run, for N = 1, 2, 3, with an empty
/// part, under a token cap, in any merge order and grouping; an interrupted run resumed from its
/// checkpoint gives the same bytes; checkpoints of another run, bad `--part` values and parts that
/// overlap are refused in one line.
@Suite("StatisticsParts") struct StatisticsPartsTests {
    static func stats() throws -> String { try ReportTest.binary("prune-stats") }

    /// The two fixture models: the gpt2 Hugging Face folder and the llama GGUF.
    static func models() throws -> [String] {
        [URL(fileURLWithPath: try ReportTest.fixture("gpt2-tiny", "config.json")).deletingLastPathComponent().path,
         try ReportTest.fixture("llama-tiny", "model-q8_0.gguf")]
    }

    static func text(_ model: String) throws -> String {
        try ReportTest.fixture(model.contains("llama") ? "llama-tiny" : "gpt2-tiny", "heldout.txt")
    }

    static func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    /// Runs `prune-stats` with `args` on each line of `runs` at once (N processes), each to succeed.
    static func parallel(_ runs: [[String]]) throws {
        let exe = try stats()
        let results = Results(runs.count)
        DispatchQueue.concurrentPerform(iterations: runs.count) { i in
            results.set(i, Result { try ReportTest.run(exe, runs[i]) })
        }
        for (i, slot) in results.values.enumerated() {
            let done = try #require(try slot?.get())
            #expect(done.status == 0, "prune-stats \(runs[i].joined(separator: " ")): \(done.stderr)")
        }
    }

    final class Results: @unchecked Sendable {
        var values: [Swift.Result<ReportTest.Result, Error>?]
        let lock = NSLock()
        init(_ n: Int) { values = Array(repeating: nil, count: n) }
        func set(_ i: Int, _ r: Swift.Result<ReportTest.Result, Error>) { lock.lock(); values[i] = r; lock.unlock() }
    }

    static func expectOneLine(_ r: ReportTest.Result, status: Int32, _ mentions: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("prune-stats: ") && r.stderr.filter { $0 == "\n" }.count == 1,
                "not one line: \(r.stderr)", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "does not mention \(m): \(r.stderr)", sourceLocation: sourceLocation) }
    }

    @Test("N processes of --part k/N, merged, give the bytes of one run (N = 1, 2, 3; any order and grouping)")
    func partsMergeToTheSingleRunsBytes() throws {
        for model in try Self.models() {
            let dir = try FactTest.tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let common = [model, try Self.text(model), "--layer", "1", "--doc-tokens", "16", "--threads", "2"]
            try Self.parallel([common + ["-o", dir + "/single.stats"]]
                + (1...3).map { common + ["--part", "\($0)/3", "-o", dir + "/p\($0)of3.stats"] }
                + (1...2).map { common + ["--part", "\($0)/2", "-o", dir + "/p\($0)of2.stats"] }
                + [common + ["--part", "1/1", "-o", dir + "/p1of1.stats"]])
            let single = Self.bytes(dir + "/single.stats")
            // The text has 683 documents: 11 chunks of 64, so every part holds documents and several chunks.
            let s = try KeyStatisticsFile.read(path: dir + "/single.stats", exact: true)
            #expect(s.documents > 3 * StatisticsComputer.chunkDocuments && s.exact != nil && s.sources.count == 1)
            let p2 = try KeyStatisticsFile.read(path: dir + "/p2of3.stats")
            #expect(p2.count > 0 && p2.count < s.count && p2.sources.first?.part == 2 && p2.sources.first?.parts == 3)
            #expect(Self.bytes(dir + "/p1of1.stats") == single, "\(model): --part 1/1 differs from the plain run")
            let stats = try Self.stats()
            let merges: [(String, [String])] = [
                ("m3", ["p1of3", "p2of3", "p3of3"]), ("m3r", ["p3of3", "p1of3", "p2of3"]), ("m2", ["p2of2", "p1of2"]),
            ]
            for (out, parts) in merges {
                let r = try ReportTest.run(stats, ["merge"] + parts.map { dir + "/\($0).stats" } + ["-o", dir + "/\(out).stats"])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(Self.bytes(dir + "/\(out).stats") == single, "\(model): merge of \(parts) differs from the single run")
            }
            // Grouped: (1/3 + 2/3) then + 3/3.
            let a = try ReportTest.run(stats, ["merge", dir + "/p1of3.stats", dir + "/p2of3.stats", "-o", dir + "/g12.stats"])
            #expect(a.status == 0, "\(a.stderr)")
            let g = try KeyStatisticsFile.read(path: dir + "/g12.stats")
            #expect(g.sources.count == 2 && g.sources.allSatisfy { $0.parts == 3 }, "an incomplete set keeps its parts")
            let b = try ReportTest.run(stats, ["merge", dir + "/p3of3.stats", dir + "/g12.stats", "-o", dir + "/g.stats"])
            #expect(b.status == 0, "\(b.stderr)")
            #expect(Self.bytes(dir + "/g.stats") == single, "\(model): the grouped merge differs from the single run")
            // The same part twice, and slices of two splits, are refused.
            let twice = try ReportTest.run(stats, ["merge", dir + "/p1of3.stats", dir + "/p1of3.stats", dir + "/p2of3.stats", "-o", dir + "/x.stats"])
            Self.expectOneLine(twice, status: 1, [dir + "/p1of3.stats", "part 1/3", "twice"])
            let mixed = try ReportTest.run(stats, ["merge", dir + "/p1of3.stats", dir + "/p2of2.stats", "-o", dir + "/x.stats"])
            Self.expectOneLine(mixed, status: 1, [dir + "/p2of2.stats", "different splits"])
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.stats"))
        }
    }

    @Test("a part with no documents is zero statistics and merges as zero; a token cap applies to the whole text first")
    func emptyPartAndCaps() throws {
        let model = try Self.models()[0]
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 3 documents: one chunk, so parts 1/3 and 2/3 are empty (chunks ⌊(K−1)C/N⌋..<⌊KC/N⌋, C = 1).
        let lines = try String(contentsOfFile: try Self.text(model), encoding: .utf8).split(separator: "\n").prefix(3)
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/three.txt", atomically: true, encoding: .utf8)
        let small = [model, dir + "/three.txt", "--layer", "2", "--doc-tokens", "16"]
        try Self.parallel([small + ["-o", dir + "/single.stats"]] + (1...3).map { small + ["--part", "\($0)/3", "-o", dir + "/e\($0).stats"] })
        let empty = try KeyStatisticsFile.read(path: dir + "/e1.stats")
        #expect(empty.count == 0 && empty.documents == 0 && empty.sum.allSatisfy { $0 == 0 })
        #expect(try KeyStatisticsFile.read(path: dir + "/e3.stats").documents == 3)
        let r = try ReportTest.run(try Self.stats(), ["merge", dir + "/e2.stats", dir + "/e3.stats", dir + "/e1.stats", "-o", dir + "/m.stats"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.bytes(dir + "/m.stats") == Self.bytes(dir + "/single.stats"))

        // --max-tokens 700 and --max-docs 400 cut the whole text; the parts slice what they took.
        let capped = [model, try Self.text(model), "--layer", "1", "--doc-tokens", "16", "--max-tokens", "700", "--max-docs", "400"]
        try Self.parallel([capped + ["-o", dir + "/cs.stats"]] + (1...2).map { capped + ["--part", "\($0)/2", "-o", dir + "/c\($0).stats"] })
        let whole = try KeyStatisticsFile.read(path: dir + "/cs.stats")
        #expect(whole.count >= 700 && whole.count < 700 + 16)
        let m = try ReportTest.run(try Self.stats(), ["merge", dir + "/c1.stats", dir + "/c2.stats", "-o", dir + "/cm.stats"])
        #expect(m.status == 0, "\(m.stderr)")
        #expect(Self.bytes(dir + "/cm.stats") == Self.bytes(dir + "/cs.stats"))
    }

    @Test("bad --part values are one-line usage errors (exit 64)")
    func badPart() throws {
        let model = try Self.models()[0]
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // (An empty value is ArgumentParser's own "missing value" error.)
        for bad in ["0/3", "4/3", "x/y", "3", "1/0", "-1/3", "1/3/5", " "] {
            // `--part=V`: a value beginning with "-" would otherwise be read as an option.
            let r = try ReportTest.run(try Self.stats(), [model, try Self.text(model), "--layer", "1", "--part=\(bad)", "-o", dir + "/s.stats"])
            Self.expectOneLine(r, status: 64, ["--part", "K/N", "\"\(bad)\""])
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/s.stats"))
    }

    @Test("an interrupted run resumes from its checkpoint to the bytes of an uninterrupted one; other runs' checkpoints are refused")
    func interruptAndResume() throws {
        for model in try Self.models() {
            let dir = try FactTest.tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let stats = try Self.stats()
            let common = [model, try Self.text(model), "--layer", "1", "--doc-tokens", "16"]
            for (name, part) in [("whole", "1/1"), ("part", "2/3")] {
                let out = dir + "/\(name).stats", ckpt = out + ".checkpoint"
                let plain = try ReportTest.run(stats, common + ["--part", part, "-o", dir + "/\(name)-plain.stats"])
                #expect(plain.status == 0, "\(plain.stderr)")
                // Interrupted after its 2nd checkpoint (one every chunk).
                let cut = try ReportTest.run(stats, common + ["--part", part, "-o", out, "--checkpoint-every", "1", "--stop-after-checkpoints", "2"])
                Self.expectOneLine(cut, status: 1, [ckpt, "--resume"])
                #expect(FileManager.default.fileExists(atPath: ckpt) && !FileManager.default.fileExists(atPath: out))
                // Without --resume the checkpoint is not silently ignored.
                let again = try ReportTest.run(stats, common + ["--part", part, "-o", out])
                Self.expectOneLine(again, status: 1, [ckpt, "--resume"])
                // Another layer, caps, text or part: refused, naming what differs.
                let others: [([String], String)] = [
                    ([model, try Self.text(model), "--layer", "2", "--doc-tokens", "16", "--part", part], "another layer"),
                    ([model, try Self.text(model), "--layer", "1", "--doc-tokens", "8", "--part", part], "other caps (--doc-tokens)"),
                    ([model, try Self.text(model), "--layer", "1", "--doc-tokens", "16", "--part", part == "1/1" ? "1/2" : "1/3"], "another --part"),
                ]
                for (args, why) in others {
                    let r = try ReportTest.run(stats, args + ["-o", out, "--resume"])
                    Self.expectOneLine(r, status: 1, [ckpt, why])
                }
                let resumed = try ReportTest.run(stats, common + ["--part", part, "-o", out, "--resume", "--checkpoint-every", "1"])
                #expect(resumed.status == 0, "\(resumed.stderr)")
                #expect(Self.bytes(out) == Self.bytes(dir + "/\(name)-plain.stats"), "\(model) \(part): the resumed run differs")
                #expect(!FileManager.default.fileExists(atPath: ckpt), "the checkpoint is removed once the run is done")
            }
            // A checkpoint of another text.
            let other = dir + "/other.txt"
            try "one document\nanother document\n".write(toFile: other, atomically: true, encoding: .utf8)
            let cut = try ReportTest.run(stats, common + ["-o", dir + "/t.stats", "--checkpoint-every", "1", "--stop-after-checkpoints", "1"])
            #expect(cut.status == 1)
            let r = try ReportTest.run(stats, [model, other, "--layer", "1", "--doc-tokens", "16", "-o", dir + "/t.stats", "--resume"])
            Self.expectOneLine(r, status: 1, [dir + "/t.stats.checkpoint", "another text"])
        }
    }

    @Test("off a terminal: only the summary line (none with --quiet); on a terminal: documents, tokens, tokens/s and ETA")
    func progressAndQuiet() throws {
        let model = try Self.models()[0]
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stats = try Self.stats()
        let args = [model, try Self.text(model), "--layer", "1", "--doc-tokens", "16"]
        let loud = try ReportTest.run(stats, args + ["-o", dir + "/a.stats"])
        #expect(loud.status == 0 && loud.stdout.isEmpty)
        #expect(loud.stderr.hasPrefix("prune-stats: layer 1, ") && loud.stderr.filter { $0 == "\n" }.count == 1
                && !loud.stderr.contains("\r") && loud.stderr.contains("wrote \(dir)/a.stats"), "\(loud.stderr)")
        let quiet = try ReportTest.run(stats, args + ["-o", dir + "/b.stats", "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.isEmpty, "\(quiet.stderr)")
        let merge = try ReportTest.run(stats, ["merge", dir + "/a.stats", "-o", dir + "/c.stats", "-q"])
        #expect(merge.status == 0 && merge.stderr.isEmpty, "\(merge.stderr)")
        // A pseudo-terminal (script(1)): the self-overwriting line, then the summary.
        let quoted = (args + ["-o", dir + "/t.stats"]).map { "'\($0)'" }.joined(separator: " ")
        let tty = try ReportTest.run("/usr/bin/script", ["-qec", "'\(stats)' \(quoted)", "/dev/null"])
        #expect(tty.status == 0, "\(tty.stdout)")
        #expect(tty.stdout.contains("\r\u{1B}[Kprune-stats: ") && tty.stdout.contains(" documents, ")
                && tty.stdout.contains(" tokens/s, ETA ") && tty.stdout.contains("prune-stats: layer 1, "), "\(tty.stdout.prefix(600))")
        let ttyQuiet = try ReportTest.run("/usr/bin/script", ["-qec", "'\(stats)' \(quoted) --quiet", "/dev/null"])
        #expect(ttyQuiet.status == 0 && !ttyQuiet.stdout.contains("prune-stats"), "\(ttyQuiet.stdout.prefix(600))")
    }

    @Test("files without the exact sum (an older prune's) still read and merge, in f64 as before")
    func olderFilesStillMerge() throws {
        let model = try Self.models()[0]
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ReportTest.run(try Self.stats(), [model, try Self.text(model), "--layer", "1", "--doc-tokens", "16", "--max-docs", "100", "-o", dir + "/new.stats"])
        #expect(r.status == 0, "\(r.stderr)")
        var old = try KeyStatisticsFile.read(path: dir + "/new.stats")
        #expect(old.exact == nil, "read for an edit, the exact sum is left on disk")
        try KeyStatisticsFile.write(old, to: dir + "/old.stats")
        let header = String(decoding: Self.bytes(dir + "/old.stats").prefix(4096), as: UTF8.self)
        #expect(!header.contains("sum_exact") && !header.contains("exact_fraction_bits"))
        let merged = try StatisticsJob.merge([dir + "/new.stats", dir + "/old.stats"])
        #expect(merged.exact == nil && merged.count == 2 * old.count)
        #expect(merged.sum == old.sum.map { $0 + $0 })
        old.exact = try KeyStatisticsFile.read(path: dir + "/new.stats", exact: true).exact
        #expect(old.exact?.doubles() == old.sum)
    }

    @Test("the exact sum: out-of-range entries are refused naming the entry; a diagonal that rounds to zero zeroes its row")
    func exactSumEdges() throws {
        var e = ExactKeySum(width: 3)
        var chunk = [Double](repeating: 0, count: 9)
        chunk[0 * 3 + 0] = 4
        chunk[0 * 3 + 2] = 1e-9          // k0·k2 summed: real, but k2² is below 2^-65
        chunk[2 * 3 + 2] = 1e-30
        chunk[1 * 3 + 1] = 0.5
        try e.add(chunk: chunk, name: "t")
        let d = e.doubles()
        #expect(d == [4, 0, 0, 0, 0.5, 0, 0, 0, 0])
        // Exactness: 0.1 added ten times is exactly ten times the rounded 0.1, in any grouping.
        var a = ExactKeySum(width: 1), b = ExactKeySum(width: 1), c = ExactKeySum(width: 1)
        for _ in 0..<10 { try a.add(chunk: [0.1], name: "a") }
        for _ in 0..<4 { try b.add(chunk: [0.1], name: "b") }
        for _ in 0..<6 { try c.add(chunk: [0.1], name: "c") }
        try c.add(b, name: "b")
        #expect(a == c && a.values[0] == 10 * Int128((0.1 * 0x1p64).rounded(.toNearestOrEven)))
        var big = ExactKeySum(width: 2)
        #expect(throws: FactError.self) { try big.add(chunk: [1, 0, 0, 0x1p63], name: "x.txt (layer 3)") }
        do { try big.add(chunk: [1, 0x1p63, 0, 1], name: "x.txt (layer 3)") } catch {
            let m = (error as? LocalizedError)?.errorDescription ?? ""
            #expect(m.hasPrefix("x.txt (layer 3): ") && m.contains("sum[0, 1]") && !m.contains("\n"), "\(m)")
        }
        var full = ExactKeySum(width: 1)
        try full.add(chunk: [0x1p61], name: "f")
        try full.add(chunk: [0x1p60], name: "f")
        #expect(throws: FactError.self) { try full.add(chunk: [0x1p61], name: "f") }
        var one = ExactKeySum(width: 1)
        #expect(throws: FactError.self) { try one.add(chunk: [0x1p62], name: "f") }
        // `matches` is `doubles() ==` without the second matrix: a zeroed row counts as zero, and a
        // change in either triangle is seen.
        #expect(e.matches(d) && e.matches([4, 0, 0, 0, 0.5, 0, 0, 0, 0]))
        for k in [2, 6, 4] {
            var off = d
            off[k] = off[k] == 0 ? 1e-300 : off[k] * 2
            #expect(!e.matches(off), "entry \(k)")
        }
        #expect(!e.matches(Array(d.prefix(4))))
    }

    /// The shell script of the first `- |` block scalar of a YAML file.
    static func blockScalar(_ yaml: String) throws -> String {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "- |" }), start + 1 < lines.count else {
            throw TestFailure("no `- |` block")
        }
        let indent = lines[start + 1].prefix { $0 == " " }.count
        var out: [String] = []
        for l in lines[(start + 1)...] {
            guard l.prefix(while: { $0 == " " }).count >= indent || l.isEmpty else { break }
            out.append(String(l.dropFirst(min(indent, l.count))))
        }
        return out.joined(separator: "\n")
    }

    @Test("the Slurm and Kubernetes samples run here (N = 3 local processes) and merge to the single run's bytes; their options exist")
    func schedulerSamples() throws {
        let model = try Self.models()[1]
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = ReportTest.packageRoot.appendingPathComponent("samples/statistics").path
        let exe = try Self.stats()
        let bin = URL(fileURLWithPath: exe).deletingLastPathComponent().path
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["OPENBLAS_CORETYPE"] = BLASCore.name            // the scripts pin one kernel family: so does the single run
        env["MODEL"] = model
        env["TEXT"] = try Self.text(model)
        env["LAYER"] = "1"
        let single = try ReportTest.run(exe, [model, try Self.text(model), "--layer", "1", "-o", dir + "/single.stats"], environment: env)
        #expect(single.status == 0, "\(single.stderr)")

        // Slurm: the array's tasks 1…3, then the merge job.
        var slurm = env
        slurm["OUT"] = dir + "/slurm"
        slurm["PARTS"] = "3"
        slurm["SLURM_ARRAY_TASK_COUNT"] = "3"
        slurm["SLURM_CPUS_PER_TASK"] = "1"
        let results = Results(3), task = slurm
        DispatchQueue.concurrentPerform(iterations: 3) { k in
            var e = task
            e["SLURM_ARRAY_TASK_ID"] = String(k + 1)
            results.set(k, Result { try ReportTest.run("/bin/bash", [samples + "/slurm-part.sh"], environment: e) })
        }
        for slot in results.values {
            let r = try #require(try slot?.get())
            #expect(r.status == 0 && r.stderr.isEmpty, "slurm-part.sh: \(r.stderr)")
        }
        let merged = try ReportTest.run("/bin/bash", [samples + "/slurm-merge.sh"], environment: slurm)
        #expect(merged.status == 0, "slurm-merge.sh: \(merged.stderr)")
        #expect(Self.bytes(dir + "/slurm/layer-1.stats") == Self.bytes(dir + "/single.stats"), "the Slurm run differs from the single run")

        // Kubernetes: the indexed Job's container script for indexes 0…2, then the merge Job's.
        let parts = try String(contentsOfFile: samples + "/k8s-parts-job.yaml", encoding: .utf8)
        let merge = try String(contentsOfFile: samples + "/k8s-merge-job.yaml", encoding: .utf8)
        let completions = parts.firstMatch(of: /completions: (\d+)/).map { String($0.1) }
        #expect(completions != nil && parts.contains("{ name: PARTS, value: \"\(completions ?? "")\" }")
                && merge.contains("{ name: PARTS, value: \"\(completions ?? "")\" }"), "PARTS must equal completions")
        #expect(parts.contains("completionMode: Indexed"))
        var k8s = env
        k8s["OUT"] = dir + "/k8s"
        k8s["PARTS"] = "3"
        let partScript = try Self.blockScalar(parts), mergeScript = try Self.blockScalar(merge)
        for index in 0..<3 {
            var e = k8s
            e["JOB_COMPLETION_INDEX"] = String(index)
            let r = try ReportTest.run("/bin/bash", ["-c", partScript], environment: e)
            #expect(r.status == 0 && r.stderr.isEmpty, "k8s part \(index): \(r.stderr)")
        }
        let m = try ReportTest.run("/bin/bash", ["-c", mergeScript], environment: k8s)
        #expect(m.status == 0, "k8s merge: \(m.stderr)")
        #expect(Self.bytes(dir + "/k8s/layer-1.stats") == Self.bytes(dir + "/single.stats"), "the Kubernetes run differs from the single run")

        // Every option the samples give prune-stats is one of its options.
        let compute = try ReportTest.run(exe, ["compute", "--help"]).stdout, mergeHelp = try ReportTest.run(exe, ["merge", "--help"]).stdout
        for file in try FileManager.default.contentsOfDirectory(atPath: samples) {
            let text = try String(contentsOfFile: samples + "/" + file, encoding: .utf8)
            for m in text.matches(of: /prune-stats (compute|merge)((?:[^\n]|\\\n)*)/) {
                let help = m.1 == "merge" ? mergeHelp : compute
                for o in String(m.2).matches(of: /\s(--?[a-z][a-z-]*)/) {
                    #expect(help.contains(" \(o.1) ") || help.contains(" \(o.1),") || help.contains("\(o.1)\n") || help.contains(", \(o.1) "),
                            "\(file): prune-stats \(m.1) has no option \(o.1)")
                }
            }
        }
    }
}
