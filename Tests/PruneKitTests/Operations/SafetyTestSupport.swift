import Foundation
import Testing

/// Helpers of the safety tests (bad paths, forgeries, signals, terminals): a scratch folder per test with the samples copied in,
/// processes run with a time limit (a hang is a failure, not a stuck suite), and signals.
enum SafetyTest {
    static var root: String { ReportTest.packageRoot.path }
    static var sampleModel: String { root + "/samples/gpt2-tiny/model.safetensors" }
    static var sampleGGUF: String { root + "/samples/gpt2-tiny/model-q8_0.gguf" }
    static let sampleTensor = "transformer.h.1.mlp.c_proj.weight"

    /// A fresh UUID-named folder holding copies of samples/edits.jsonl and samples/deltas.safetensors.
    static func scratch() throws -> String {
        let dir = try ReportTest.tempDir()
        for f in ["edits.jsonl", "deltas.safetensors", "more.jsonl", "lora.jsonl"] {
            try FileManager.default.copyItem(atPath: root + "/samples/" + f, toPath: dir + "/" + f)
        }
        try FileManager.default.copyItem(atPath: root + "/samples/lora", toPath: dir + "/lora")
        return dir
    }

    struct Result {
        var status: Int32
        var signalled: Bool
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// Runs a program in `cwd` (default: the package root) and waits at most `timeout` seconds
    /// (then kills it and reports `timedOut`). stdin is /dev/null unless `stdin` names a file.
    @discardableResult
    static func run(_ exe: String, _ args: [String], cwd: String? = nil, stdin: String? = nil,
                    timeout: Double = 300) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? root)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("prune-hardening-run-\(UUID().uuidString)").path
        let outPath = tmp + ".out", errPath = tmp + ".err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let o = FileHandle(forWritingAtPath: outPath), e = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = o
        p.standardError = e
        p.standardInput = stdin.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline { timedOut = true; kill(p.processIdentifier, SIGKILL); break }
            usleep(20_000)
        }
        p.waitUntilExit()
        try? o?.close()
        try? e?.close()
        return Result(status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
                      stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self),
                      timedOut: timedOut)
    }

    static func tool(_ name: String) throws -> String { try ReportTest.binary(name) }

    /// `python3 -c code`; fails the test on a non-zero exit.
    static func python(_ code: String, cwd: String) throws {
        let r = try run("/usr/bin/env", ["python3", "-c", code], cwd: cwd)
        guard r.status == 0 else { throw ReportTest.Failure("python failed: \(r.stderr)") }
    }

    static func sha256(_ path: String) throws -> String { try IOTest.sha256sum(path) }

    /// Names in `dir` that start with a dot (temporary files of a run).
    static func hiddenFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }.sorted()
    }
}
