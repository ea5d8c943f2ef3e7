import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Helpers of the diff, audit, docs and samples tests (prefixed to stay clear of other areas' helpers).
enum ReportTest {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixtures: String { TestEnvironment.fixtures }
    typealias Failure = TestFailure

    /// A fixture file; a missing fixture is a failure, never a skip.
    static func fixture(_ model: String, _ file: String) throws -> String { try TestEnvironment.fixture(model, file) }

    static func tempDir() throws -> String { try TestEnvironment.tempDir("report") }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program in the package root (TestProcess: output through files).
    @discardableResult
    static func run(_ exe: String, _ args: [String], environment: [String: String]? = nil) throws -> Result {
        let r = try TestProcess.run(exe, args, environment: environment)
        return Result(status: r.status, stdout: r.stdoutText, stderr: r.stderr)
    }

    static func sh(_ command: String) throws -> Result { try run("/bin/bash", ["-c", command]) }

    /// `python3 Tests/scripts/<script> args…`, its stdout parsed as JSON.
    static func python(_ script: String, _ args: [String]) throws -> [String: Any] {
        let r = try TestProcess.python(script, args)
        guard let obj = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] else {
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

    /// A built executable of this package.
    static func binary(_ name: String) throws -> String { try TestEnvironment.executable(name) }
}
