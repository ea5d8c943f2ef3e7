import Foundation
import Testing

/// Everything the README shows really runs.
///
/// - Every ```console block is a transcript: each `$ command` line is run with bash (in a scratch
///   folder that sees the package's samples/ and .build/, with the built binaries first on PATH, in
///   order, so later commands see the files earlier ones wrote), and its output (stdout and stderr)
///   must be exactly the lines that follow it in the README.
/// - The two set-up commands are the ones CI and a newcomer run.
@Suite("Readme") struct ReadmeTests {
    struct Step { var command: String; var expected: [String] }

    static func readme() throws -> String {
        try String(contentsOf: ReportTest.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The transcripts of all ```console blocks, in order.
    static func transcripts(_ text: String) -> [Step] {
        var steps: [Step] = []
        var inBlock = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if !inBlock {
                if line.trimmingCharacters(in: .whitespaces) == "```console" { inBlock = true }
                continue
            }
            if line.hasPrefix("```") { inBlock = false; continue }
            if line.hasPrefix("$ ") {
                steps.append(Step(command: String(line.dropFirst(2)), expected: []))
            } else if !steps.isEmpty {
                steps[steps.count - 1].expected.append(line)
            }
        }
        return steps
    }

    static func normalized(_ lines: [String]) -> [String] {
        var out = lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
        while out.last?.isEmpty == true { out.removeLast() }
        return out
    }

    @Test("every console transcript in the README runs and prints exactly what the README shows")
    func transcriptsRun() throws {
        let steps = Self.transcripts(try Self.readme())
        #expect(steps.count >= 8, "the walk-through has \(steps.count) commands")
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = ReportTest.packageRoot.path
        for link in ["samples", ".build", "man"] {
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + link, withDestinationPath: root + "/" + link)
        }
        let bin = URL(fileURLWithPath: try ReportTest.binary("prune-diff")).deletingLastPathComponent().path
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        for step in steps {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-o", "pipefail", "-c", step.command + " 2>&1"]
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.environment = env
            let outPath = dir + "/.transcript-out"
            FileManager.default.createFile(atPath: outPath, contents: nil)
            let handle = FileHandle(forWritingAtPath: outPath)
            p.standardOutput = handle
            p.standardError = handle
            p.standardInput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try? handle?.close()
            let output = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
            #expect(p.terminationStatus == 0, "README command failed (\(p.terminationStatus)): \(step.command)\n\(output)")
            let got = Self.normalized(output.components(separatedBy: "\n"))
            let want = Self.normalized(step.expected)
            #expect(got == want, "README output differs for: \(step.command)\n--- README\n\(want.joined(separator: "\n"))\n--- actual\n\(got.joined(separator: "\n"))")
        }
    }

    @Test("the two set-up commands: install + build + the lifecycle sample, and the CI test command")
    func setupCommands() throws {
        let text = try Self.readme()
        #expect(text.contains("bash .ci/install && swift build -c release && bash samples/lifecycle.sh"))
        #expect(text.contains("\nbash Tests/run\n"))
        let ci = try String(contentsOf: ReportTest.packageRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(ci.contains("bash Tests/run"))
        #expect(FileManager.default.isExecutableFile(atPath: ReportTest.packageRoot.appendingPathComponent("samples/lifecycle.sh").path))
    }

    @Test("the README links a man page for every format and command, and they exist")
    func manLinks() throws {
        let text = try Self.readme()
        for page in ["prune.1", "prune-apply.1", "prune-revert.1", "prune-diff.1", "prune-audit.1", "prune-inspect.1",
                     "prune-manifest.5", "prune-sidecar.5"] {
            #expect(text.contains("(man/\(page))"), "README does not link man/\(page)")
            #expect(FileManager.default.fileExists(atPath: ReportTest.packageRoot.appendingPathComponent("man/" + page).path),
                    "man/\(page) does not exist")
        }
    }
}
