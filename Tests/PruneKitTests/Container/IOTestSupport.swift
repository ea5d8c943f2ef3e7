import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Paths and process helpers for the container tests (prefixed to stay clear of other areas' helpers).
enum IOTest {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var fixtures: String {
        if let e = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"], !e.isEmpty { return e }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }

    static func fixture(_ model: String, _ file: String) -> String { fixtures + "/" + model + "/" + file }

    static let models = ["gpt2-tiny", "llama-tiny"]
    static let modelFiles = ["model.safetensors", "model-f32.gguf", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"]
    static var allFixtures: [String] { models.flatMap { m in modelFiles.map { fixture(m, $0) } } }

    /// A fresh temporary directory, removed by `cleanup`.
    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("prune-io-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    struct Result { var status: Int32; var stdout: Data; var stderr: String }

    /// Runs a program, optionally feeding `stdin` from a file, capturing stdout (to memory or a file)
    /// and stderr through temporary files.
    @discardableResult
    static func run(_ exe: String, _ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("prune-io-run-\(UUID().uuidString)").path
        let outPath = stdoutFile ?? tmp + ".out", errPath = tmp + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            if stdoutFile == nil { try? FileManager.default.removeItem(atPath: outPath) }
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let outHandle = FileHandle(forWritingAtPath: outPath), errHandle = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = outHandle
        p.standardError = errHandle
        if let stdinFile { p.standardInput = FileHandle(forReadingAtPath: stdinFile) } else { p.standardInput = FileHandle.nullDevice }
        try p.run()
        p.waitUntilExit()
        try? outHandle?.close()
        try? errHandle?.close()
        let outData = stdoutFile == nil ? (FileManager.default.contents(atPath: outPath) ?? Data()) : Data()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return Result(status: p.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
    }

    static func sh(_ command: String) throws -> Result { try run("/bin/sh", ["-c", command]) }

    /// Runs a Python script of Tests/scripts and parses its JSON output.
    static func python(_ script: String, _ args: [String]) throws -> Any {
        let r = try run("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("Tests/scripts/" + script).path] + args)
        guard r.status == 0 else { throw TestFailure("python \(script) failed: \(r.stderr)") }
        return try JSONSerialization.jsonObject(with: r.stdout)
    }

    /// The SHA-256 of a file as computed by coreutils (independent of our hasher).
    static func sha256sum(_ path: String) throws -> String {
        let r = try sh("sha256sum '\(path)'")
        return String(String(decoding: r.stdout, as: UTF8.self).prefix(64))
    }

    /// Compresses `file` with the zstd CLI (an independent encoder).
    static func zstdCompress(_ file: String, to out: String, extra: String = "") throws {
        let r = try sh("zstd -q -f \(extra) '\(file)' -o '\(out)'")
        guard r.status == 0 else { throw TestFailure("zstd failed: \(r.stderr)") }
    }

    /// A FIFO fed with `file` by a background `cat`, to test the pipe path.
    static func fifo(feeding file: String, in dir: String) throws -> String {
        let path = dir + "/fifo-\(UUID().uuidString)"
        guard mkfifo(path, 0o600) == 0 else { throw TestFailure("mkfifo failed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cat '\(file)' > '\(path)'"]
        try p.run()
        return path
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension IOTest {
    /// A built executable of this package (next to the test bundle, else .build/release or debug).
    static func executable(_ name: String) throws -> String {
        var candidates: [String] = []
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(me.appendingPathComponent(name).path)
        candidates.append(me.deletingLastPathComponent().appendingPathComponent(name).path)
        for conf in ["release", "debug"] {
            candidates.append(packageRoot.appendingPathComponent(".build/\(conf)/\(name)").path)
        }
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
        throw TestFailure("\(name) is not built (looked in \(candidates)); run swift build first")
    }
}
