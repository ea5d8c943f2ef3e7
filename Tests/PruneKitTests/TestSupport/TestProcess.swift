import Foundation

/// Runs child processes for the tests. Output goes through files, never pipes, so a child that
/// writes a lot on both streams cannot deadlock against a parent that reads one of them.
enum TestProcess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `exe args…` in `directory` (the package root by default) and waits. `stdinFile` feeds
    /// stdin (else /dev/null); `stdoutFile` receives stdout (then `stdout` is empty), else it is
    /// collected. `environment` replaces the child's environment when given.
    @discardableResult
    static func run(_ exe: String, _ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil,
                    environment: [String: String]? = nil, directory: URL? = nil) throws -> Result {
        let scratch = try TestEnvironment.tempDir("run")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outPath = stdoutFile ?? scratch + "/out", errPath = scratch + "/err"
        guard FileManager.default.createFile(atPath: outPath, contents: nil),
              FileManager.default.createFile(atPath: errPath, contents: nil),
              let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
            throw TestFailure("cannot create the output files of \(exe) in \(scratch)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = directory ?? TestEnvironment.packageRoot
        if let environment { p.environment = environment }
        p.standardOutput = out
        p.standardError = err
        if let stdinFile {
            guard let input = FileHandle(forReadingAtPath: stdinFile) else { throw TestFailure("cannot read \(stdinFile)") }
            p.standardInput = input
        } else {
            p.standardInput = FileHandle.nullDevice
        }
        try p.run()
        p.waitUntilExit()
        try? out.close()
        try? err.close()
        let stdout = stdoutFile == nil ? (FileManager.default.contents(atPath: outPath) ?? Data()) : Data()
        let stderr = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        return Result(status: p.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// `python3 Tests/scripts/<script> args…`; throws with its stderr when it exits non-zero.
    @discardableResult
    static func python(_ script: String, _ args: [String]) throws -> Result {
        let r = try run("/usr/bin/env", ["python3", TestEnvironment.script(script)] + args)
        guard r.status == 0 else { throw TestFailure("\(script) \(args.first ?? "") exited \(r.status): \(r.stderr.suffix(4000))") }
        return r
    }
}
