import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Helpers of the diff, audit, docs and samples tests (prefixed to stay clear of other areas' helpers).
enum ReportTest {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var fixtures: String {
        if let e = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"], !e.isEmpty { return e }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// A fixture file; a missing fixture is a failure, never a skip.
    static func fixture(_ model: String, _ file: String) throws -> String {
        let p = fixtures + "/" + model + "/" + file
        guard FileManager.default.fileExists(atPath: p) else { throw Failure("fixture missing: \(p)") }
        return p
    }

    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("prune-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program in the package root; stdout and stderr go through files (no pipe deadlock).
    @discardableResult
    static func run(_ exe: String, _ args: [String], environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        if let environment { p.environment = environment }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("prune-report-run-\(UUID().uuidString)").path
        let outPath = tmp + ".out", errPath = tmp + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let o = FileHandle(forWritingAtPath: outPath), e = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = o
        p.standardError = e
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try? o?.close()
        try? e?.close()
        let out = FileManager.default.contents(atPath: outPath) ?? Data()
        let err = FileManager.default.contents(atPath: errPath) ?? Data()
        return Result(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }

    static func sh(_ command: String) throws -> Result { try run("/bin/bash", ["-c", command]) }

    /// `python3 Tests/scripts/<script> args…`, its stdout parsed as JSON.
    static func python(_ script: String, _ args: [String]) throws -> [String: Any] {
        let r = try run("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("Tests/scripts/" + script).path] + args)
        guard r.status == 0 else { throw Failure("python \(script) failed: \(r.stderr)") }
        guard let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw Failure("python \(script): output is not a JSON object")
        }
        return obj
    }

    static func parseJSON(_ text: String) throws -> [String: Any] {
        guard let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure("not a JSON object: \(text.prefix(200))")
        }
        return obj
    }

    /// A built executable of this package (`swift build` / `swift test` put them in .build/<config>).
    static func binary(_ name: String) throws -> String {
        #if DEBUG
        let configs = ["debug", "release"]
        #else
        let configs = ["release", "debug"]
        #endif
        for c in configs {
            let p = packageRoot.appendingPathComponent(".build/\(c)/\(name)").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw Failure("executable \(name) not built (run swift build)")
    }
}
