import Foundation
@testable import PruneFormats
@testable import PruneKit

/// Paths and process helpers shared by the sidecar / apply / revert suites.
enum ApplyTestSupport {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }   // Output, PruneKitTests, Tests → root
        return url.path
    }()

    static var fixtures: String {
        ProcessInfo.processInfo.environment["PRUNE_FIXTURES"] ?? packageRoot + "/../shared/fixtures"
    }

    static func fixture(_ rel: String) -> String { fixtures + "/" + rel }

    /// A fresh empty folder under the system temp dir, UUID-named (never shared between tests).
    static func scratch(_ tag: String) throws -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("prune-apply-tests-\(tag)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program and waits; output is collected through files to avoid pipe deadlocks.
    static func run(_ exe: String, _ args: [String], stdin: String? = nil) throws -> Run {
        let dir = try scratch("run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        if let stdin { p.standardInput = FileHandle(forReadingAtPath: stdin) }
        else { p.standardInput = FileHandle.nullDevice }
        try p.run()
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        return Run(status: p.terminationStatus, stdout: out, stderr: err)
    }

    /// Runs a program with stdout going to a file (binary output).
    static func run(_ exe: String, _ args: [String], stdin: String? = nil, stdoutFile: String) throws -> Run {
        let dir = try scratch("runf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        FileManager.default.createFile(atPath: stdoutFile, contents: nil)
        FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutFile))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        p.standardInput = stdin.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        return Run(status: p.terminationStatus, stdout: "", stderr: err)
    }

    /// A built executable of this package (next to the test bundle).
    static func tool(_ name: String) -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if let b = Bundle.main.executableURL { dir = b.deletingLastPathComponent() }
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let p = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return packageRoot + "/.build/release/" + name
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
