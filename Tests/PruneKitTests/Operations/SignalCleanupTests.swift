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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        var saw = false
        while p.isRunning, Date() < deadline {
            let hidden = (try? FileManager.default.contentsOfDirectory(atPath: watch).filter { $0.hasPrefix(".") }) ?? []
            let sizes = hidden.compactMap { (try? FileManager.default.attributesOfItem(atPath: watch + "/" + $0))?[.size] as? Int }
            if sizes.contains(where: { $0 > 1 << 20 }) { saw = true; break }
            usleep(10_000)
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
}
