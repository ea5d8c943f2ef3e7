import Foundation
import Testing

/// prune-apply's progress (issue 20): on a terminal a fact edit shows the method, the request i/n,
/// the layer, the optimisation step/total, the loss and the time left on one self-overwriting line;
/// off a terminal nothing but the summary; `--quiet` prints neither (warnings and errors still do).
@Suite("ApplyProgress") struct ApplyProgressTests {
    @Test("a ROME and a MEMIT line show their steps on a terminal; --quiet and a pipe show none")
    func factSteps() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let manifest = dir + "/edits.jsonl", hparams = dir + "/h.json"
        try FactApplyTests.hparams.write(toFile: hparams, atomically: true, encoding: .utf8)
        let lines = [
            #"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Gril Zardrark", "target": "Morvath"}"#,
            #"{"kind": "memit", "requests": [{"prompt": "{} speaks", "subject": "Zul Wimli", "target": "Finnish"}, {"prompt": "{} plays", "subject": "Ana Tovel", "target": "chess"}]}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        let apply = try ReportTest.binary("prune-apply")
        var env = ProcessInfo.processInfo.environment
        env["PRUNE_CACHE"] = dir + "/cache"
        func args(_ out: String) throws -> [String] {
            [model, manifest, "-o", dir + "/\(out).safetensors", "--sidecar", dir + "/\(out).prune", "--hparams", hparams,
             "--stats-text", try FactTest.fixture("gpt2-tiny", "heldout.txt")]
        }
        let piped = try ReportTest.run(apply, try args("a"), environment: env)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(!piped.stderr.contains("\r") && !piped.stderr.contains(" step ") && piped.stderr.contains("prune-apply: edited "), "\(piped.stderr)")
        let quiet = try ReportTest.run(apply, try args("b") + ["--quiet"], environment: env)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(FileManager.default.contents(atPath: dir + "/a.safetensors") == FileManager.default.contents(atPath: dir + "/b.safetensors"))

        let quoted = try args("t").map { "'\($0)'" }.joined(separator: " ")
        let tty = try ReportTest.run("/usr/bin/script", ["-qec", "'\(apply)' \(quoted)", "/dev/null"], environment: env)
        #expect(tty.status == 0, "\(tty.stdout.suffix(800))")
        #expect(tty.stdout.contains("\r\u{1B}[Kprune-apply: rome request 1/1, layer 1, step 1/6, loss "), "\(tty.stdout.prefix(800))")
        #expect(tty.stdout.contains("prune-apply: memit request 2/2, layer ") && tty.stdout.contains(", ETA "), "\(tty.stdout.suffix(800))")
        #expect(tty.stdout.contains("prune-apply: edited "))
        let ttyQuiet = try ReportTest.run("/usr/bin/script", ["-qec", "'\(apply)' \(try args("u").map { "'\($0)'" }.joined(separator: " ")) -q", "/dev/null"], environment: env)
        #expect(ttyQuiet.status == 0 && !ttyQuiet.stdout.contains("prune-apply"), "\(ttyQuiet.stdout.suffix(800))")
    }
}
