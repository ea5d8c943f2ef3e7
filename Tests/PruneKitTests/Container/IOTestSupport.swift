import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Paths and process helpers for the container tests (prefixed to stay clear of other areas' helpers).
enum IOTest {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixtures: String { TestEnvironment.fixtures }

    static func fixture(_ model: String, _ file: String) -> String { fixtures + "/" + model + "/" + file }

    static let models = ["gpt2-tiny", "llama-tiny"]
    static let modelFiles = ["model.safetensors", "model-f32.gguf", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"]
    static var allFixtures: [String] { models.flatMap { m in modelFiles.map { fixture(m, $0) } } }

    /// A fresh temporary directory.
    static func tempDir() throws -> String { try TestEnvironment.tempDir("io") }

    typealias Result = TestProcess.Result

    /// Runs a program, optionally feeding `stdin` from a file, capturing stdout (to memory or a file).
    @discardableResult
    static func run(_ exe: String, _ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil) throws -> Result {
        try TestProcess.run(exe, args, stdinFile: stdinFile, stdoutFile: stdoutFile)
    }

    static func sh(_ command: String) throws -> Result { try run("/bin/sh", ["-c", command]) }

    /// Runs a Python script of Tests/scripts and parses its JSON output.
    static func python(_ script: String, _ args: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: try TestProcess.python(script, args).stdout)
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

extension IOTest {
    /// A built executable of this package.
    static func executable(_ name: String) throws -> String { try TestEnvironment.executable(name) }
}
