import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// `prune-apply --restraint-file`: the same model and sidecar as the options it stands for; a bad
/// file is a one-line error naming it; it does not go with the options.
@Suite("RestraintFile") struct RestraintFileTests {
    @Test("--restraint-file {log, α 2, each} gives the bytes of --restraint log --alpha 2 --schedule each")
    func sameAsOptions() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (base, _, manifest, _) = try AuditTests.applied(in: dir)
        let file = dir + "/restraint.json"
        try "{\"kind\": \"prune-restraint\", \"restraint\": \"log\", \"alpha\": 2, \"schedule\": \"each\", \"chosen_by\": {}}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let apply = try ReportTest.binary("prune-apply")
        let a = try ReportTest.run(apply, [base, manifest, "-o", dir + "/a.safetensors", "--sidecar", dir + "/a.prune", "--no-compress",
                                           "--restraint-file", file])
        let b = try ReportTest.run(apply, [base, manifest, "-o", dir + "/b.safetensors", "--sidecar", dir + "/b.prune", "--no-compress",
                                           "--restraint", "log", "--alpha", "2", "--schedule", "each"])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.safetensors")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.safetensors")))
        let s = try Sidecar.read(path: dir + "/a.prune")
        #expect(s.parameters.restraint == "log" && s.parameters.alpha == 2 && s.parameters.schedule == "each")

        // A file that cannot be used: one line naming it and the member.
        try "{\"kind\": \"prune-restraint\", \"restraint\": \"log\", \"alpha\": 0.5}".write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try ReportTest.run(apply, [base, manifest, "-o", dir + "/c.safetensors", "--restraint-file", file])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("prune-apply: \(file): \"alpha\" must be a number > 1") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.safetensors"))
        // The file is an input of the run: neither the model nor the sidecar may be written over it.
        try "{\"kind\": \"prune-restraint\", \"restraint\": \"log\", \"alpha\": 2}".write(toFile: file, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        for args in [["-o", file, "--no-compress"], ["-o", dir + "/d.safetensors", "--sidecar", file]] {
            let over = try ReportTest.run(apply, [base, manifest, "--restraint-file", file] + args)
            #expect(over.status != 0 && over.stderr.contains(file), "\(over.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
        }
        // With the options it replaces: a usage error.
        let both = try ReportTest.run(apply, [base, manifest, "-o", dir + "/c.safetensors", "--restraint-file", file, "--alpha", "2"])
        #expect(both.status == 64 && both.stderr.contains("--restraint-file does not go with"), "\(both.stderr)")
    }

    @Test("the reader's messages", arguments: [
        ("{\"restraint\": \"log\"}", "\"kind\" must be \"prune-restraint\""),
        ("{\"kind\": \"prune-restraint\", \"restraint\": \"cubic\"}", "\"restraint\" must be \"log\", \"linear\" or \"none\", not \"cubic\""),
        ("{\"kind\": \"prune-restraint\", \"restraint\": \"linear\", \"alpha\": 2}", "\"alpha\" goes with \"restraint\": \"log\" only"),
        ("{\"kind\": \"prune-restraint\", \"restraint\": \"none\", \"schedule\": \"later\"}", "\"schedule\" must be \"end\" or \"each\""),
        ("[1]", "not a JSON object"),
    ])
    func messages(text: String, message: String) throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/r.json"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try RestraintFile.read(path: file)
            Issue.record("read \(text)")
        } catch let e as RestraintError {
            #expect(e.errorDescription?.hasPrefix("\(file): \(message) (a restraint file") == true, "\(e.errorDescription ?? "")")
        }
    }
}
