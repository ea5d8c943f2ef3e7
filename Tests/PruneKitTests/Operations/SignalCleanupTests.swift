import Foundation
import Testing

/// Issue 12, item 4: SIGINT and SIGTERM sent to a real prune-apply / prune-revert half way through a
/// big input remove the temporary files the run created, and the process ends with the signal.
@Suite("SignalCleanup") struct SignalCleanupTests {
    /// A 48 MiB f32 safetensors model of random weights (numpy), with the sample's tensor name so
    /// that samples/edits.jsonl applies: slow to compress at level 19 on one thread.
    static func bigModel(in dir: String) throws -> String {
        try SafetyTest.python("""
            import numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(12)
            t = {'\(SafetyTest.sampleTensor)': rng.standard_normal((1024, 256)).astype(np.float32)}
            for i in range(11):
                t[f'filler.{i:02d}.weight'] = rng.standard_normal((1024, 1024)).astype(np.float32)
            save_file(t, 'big.safetensors')
            """, cwd: dir)
        return dir + "/big.safetensors"
    }

    /// Starts `args`, waits until a hidden temporary file with data appears in `watch`, sends
    /// `signal`, and returns how the process ended.
    static func interrupt(_ exe: String, _ args: [String], cwd: String, watch: String, signal: Int32) throws
        -> (reason: Process.TerminationReason, status: Int32, sawTemporary: Bool) {
        try interrupt(exe, args, cwd: cwd, signal: signal) {
            let hidden = (try? FileManager.default.contentsOfDirectory(atPath: watch).filter { $0.hasPrefix(".") }) ?? []
            let sizes = hidden.compactMap { (try? FileManager.default.attributesOfItem(atPath: watch + "/" + $0))?[.size] as? Int }
            return sizes.contains(where: { $0 > 1 << 20 })
        }
    }

    /// Starts `args` (with `environment` added to this process's), waits until `ready()` holds (the
    /// temporary files to check exist), sends `signal`, and returns how the process ended.
    static func interrupt(_ exe: String, _ args: [String], cwd: String, environment: [String: String] = [:], signal: Int32,
                          ready: () -> Bool) throws -> (reason: Process.TerminationReason, status: Int32, sawTemporary: Bool) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        var saw = false
        while p.isRunning, Date() < deadline {
            if ready() { saw = true; break }
            usleep(5_000)
        }
        if p.isRunning { kill(p.processIdentifier, signal) }
        let stop = Date().addingTimeInterval(60)
        while p.isRunning, Date() < stop { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return (p.terminationReason, p.terminationStatus, saw)
    }

    @Test("prune-apply and prune-revert interrupted midway leave no temporary file",
          arguments: [SIGINT, SIGTERM])
    func interruptedRunsCleanUp(signal: Int32) throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.bigModel(in: dir)
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let apply = try SafetyTest.tool("prune-apply")
        let a = try Self.interrupt(apply, [model, "edits.jsonl", "-o", out + "/edited.zst", "--sidecar", out + "/edits.prune",
                                           "--level", "19", "--threads", "1"], cwd: dir, watch: out, signal: signal)
        #expect(a.sawTemporary, "no temporary file appeared: the run ended too soon to be interrupted")
        #expect(a.reason == .uncaughtSignal && a.status == signal, "prune-apply ended with \(a.reason) \(a.status)")
        let left = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(left.isEmpty, "left behind: \(left)")

        // Revert of a real edited model, compressing slowly, interrupted the same way.
        let done = try SafetyTest.run(apply, [model, "edits.jsonl", "-o", "edited.st", "--no-compress"], cwd: dir)
        #expect(done.status == 0, "\(done.stderr)")
        let r = try Self.interrupt(try SafetyTest.tool("prune-revert"),
                                   ["edited.st", "edits.prune", "-o", out + "/base.zst", "--compress", "--level", "19", "--threads", "1"],
                                   cwd: dir, watch: out, signal: signal)
        #expect(r.sawTemporary)
        #expect(r.reason == .uncaughtSignal && r.status == signal, "prune-revert ended with \(r.reason) \(r.status)")
        let left2 = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(left2.isEmpty, "left behind: \(left2)")
    }

    /// Issue 18: prune-apply on a sharded checkpoint folder builds its output in a hidden staging
    /// folder next to -o; interrupted while the edited shards are compressed (every matrix edited,
    /// level 19 on one thread), it leaves neither the folder nor anything in it.
    @Test("an interrupted sharded apply leaves no staging folder", arguments: [SIGINT, SIGTERM])
    func shardedApplyCleansUp(signal: Int32) throws {
        let (dir, ckpt) = try CheckpointFolderTests.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A rank-one edit of every matrix, so that every shard is rewritten.
        try SafetyTest.python("""
            import json
            from safetensors import safe_open
            with safe_open('\(try ReportTest.fixture("gpt2-tiny", "model.safetensors"))', 'np') as f:
                lines = [json.dumps({'kind': 'lowrank', 'tensor': k, 'u': [0.001] * f.get_slice(k).get_shape()[0],
                                     'v': [0.001] * f.get_slice(k).get_shape()[1]})
                         for k in f.keys() if len(f.get_slice(k).get_shape()) == 2]
            open('every.jsonl', 'w').write('\\n'.join(lines) + '\\n')
            """, cwd: dir)
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let r = try Self.interrupt(try SafetyTest.tool("prune-apply"),
                                   [ckpt, "every.jsonl", "-o", out + "/edited", "--sidecar", out + "/every.prune",
                                    "--level", "19", "--threads", "1"], cwd: dir, signal: signal) {
            // The staging folder holds a finished shard (and the next one's temporary file).
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            return names.contains { $0.hasPrefix(".edited.prune-staging-")
                && ((try? FileManager.default.contentsOfDirectory(atPath: out + "/" + $0)) ?? []).contains { !$0.hasPrefix(".") } }
        }
        #expect(r.sawTemporary, "no staging folder appeared: the run ended too soon to be interrupted")
        #expect(r.reason == .uncaughtSignal && r.status == signal, "prune-apply ended with \(r.reason) \(r.status)")
        let left = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// Issue 18: `--continue` with fact lines rebuilds W₀ in a `prune-continue-*` folder of the
    /// temporary directory; interrupted while the fact engine runs on it, nothing of it is left.
    @Test("an interrupted --continue with fact lines leaves no rebuilt base", arguments: [SIGINT, SIGTERM])
    func continuedFactsCleanUp(signal: Int32) throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try ReportTest.fixture("gpt2-tiny", "")
        let samples = SafetyTest.root + "/samples/"
        let lines = try FactContinueTests.lines("gpt2-tiny")
        try FactContinueTests.write([lines[0]], dir + "/first.jsonl")
        try FactContinueTests.write([lines[1]], dir + "/second.jsonl")
        let apply = try SafetyTest.tool("prune-apply")
        let facts = ["--hparams", samples + "hparams/rome-gpt2-tiny.json", "--stats-text", fixture + "/heldout.txt", "--threads", "2"]
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        // Each run computes its statistics (a cache of its own, empty): the second one runs long enough.
        // The edited model sits beside the config and tokenizer (the runtime reads them there).
        let model = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let first = try TestProcess.run(apply, [model, "first.jsonl", "-o", "gpt2-tiny/edited.safetensors",
                                                "--no-compress"] + facts,
                                        environment: ProcessInfo.processInfo.environment.merging(["PRUNE_CACHE": dir + "/cache1"]) { $1 },
                                        directory: URL(fileURLWithPath: dir))
        try #require(first.status == 0, "\(first.stderr)")
        let temporary = dir + "/tmp"
        let r = try Self.interrupt(apply, ["gpt2-tiny/edited.safetensors", "second.jsonl", "--continue", "first.prune",
                                           "-o", "again.safetensors", "--no-compress"] + facts,
                                   cwd: dir, environment: ["TMPDIR": temporary, "PRUNE_CACHE": dir + "/cache2"], signal: signal) {
            // The base is rebuilt: the fact engine is running on it.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
            return names.contains { $0.hasPrefix("prune-continue-")
                && FileManager.default.fileExists(atPath: temporary + "/" + $0 + "/model.safetensors") }
        }
        #expect(r.sawTemporary, "no rebuilt base appeared: the run ended too soon to be interrupted")
        #expect(r.reason == .uncaughtSignal && r.status == signal, "prune-apply ended with \(r.reason) \(r.status)")
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(left.isEmpty, "left behind in TMPDIR: \(left)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/again.safetensors"))
        #expect(try SafetyTest.hiddenFiles(dir).isEmpty)
    }
}
