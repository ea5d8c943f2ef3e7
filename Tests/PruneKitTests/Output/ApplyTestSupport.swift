import Foundation
@testable import PruneFormats
@testable import PruneKit

/// Paths and process helpers shared by the sidecar / apply / revert suites.
enum ApplyTestSupport {
    static var packageRoot: String { TestEnvironment.packageRoot.path }
    static var fixtures: String { TestEnvironment.fixtures }

    static func fixture(_ rel: String) -> String { fixtures + "/" + rel }

    /// A fresh empty folder under the system temp dir, UUID-named (never shared between tests).
    static func scratch(_ tag: String) throws -> String { try TestEnvironment.tempDir("apply-tests-" + tag) }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program and waits (TestProcess: output through files).
    static func run(_ exe: String, _ args: [String], stdin: String? = nil) throws -> Run {
        let r = try TestProcess.run(exe, args, stdinFile: stdin)
        return Run(status: r.status, stdout: r.stdoutText, stderr: r.stderr)
    }

    /// Runs a program with stdout going to a file (binary output).
    static func run(_ exe: String, _ args: [String], stdin: String? = nil, stdoutFile: String) throws -> Run {
        let r = try TestProcess.run(exe, args, stdinFile: stdin, stdoutFile: stdoutFile)
        return Run(status: r.status, stdout: "", stderr: r.stderr)
    }

    /// A built executable of this package.
    static func tool(_ name: String) -> String {
        (try? TestEnvironment.executable(name)) ?? packageRoot + "/.build/release/" + name
    }

    /// Decompresses a zstd file with the zstd tool (an independent decoder).
    static func unzstd(_ path: String, to out: String) throws {
        let r = try run("/usr/bin/env", ["zstd", "-q", "-d", "-f", path, "-o", out])
        guard r.status == 0 else { throw CocoaError(.fileReadCorruptFile) }
    }

    static func python(_ script: String, _ args: [String]) throws -> Run {
        try run("/usr/bin/env", ["python3", packageRoot + "/Tests/scripts/" + script] + args)
    }

    static func bytes(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }
}
