import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite struct InspectTests {
    /// Compares the `--json` tensor list against the Python reference description.
    static func checkAgainstReference(_ json: [String: Any], fixture: String) throws {
        let ref = try #require(IOTest.python("io_reference.py", [fixture]) as? [String: Any])
        #expect(json["format"] as? String == ref["format"] as? String)
        if ref["format"] as? String == "gguf" {
            #expect(json["version"] as? Int == ref["version"] as? Int)
            let meta = try #require(json["metadata"] as? [String: Any])
            #expect(Set(meta.keys) == Set((ref["keys"] as? [String]) ?? []))
            #expect(json["architecture"] as? String == (fixture.contains("llama") ? "llama" : "gpt2"))
        } else {
            #expect(json["version"] is NSNull)
            #expect(json["metadata"] as? [String: String] == ref["metadata"] as? [String: String])
        }
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        let refTensors = try #require(ref["tensors"] as? [[String: Any]])
        #expect(tensors.count == refTensors.count)
        for (t, r) in zip(tensors, refTensors) {
            for key in ["name", "dtype"] { #expect(t[key] as? String == r[key] as? String) }
            for key in ["bytes", "offset"] { #expect(t[key] as? Int == r[key] as? Int) }
            #expect(t["shape"] as? [Int] == r["shape"] as? [Int])
        }
        #expect(json["sha256"] as? String == (try IOTest.sha256sum(fixture)))
    }

    @Test(arguments: IOTest.allFixtures)
    func libraryReportMatchesPython(fixture: String) throws {
        let report = try Inspect.run(path: fixture)
        let parsed = try JSONSerialization.jsonObject(with: Data(report.json.serialized().utf8)) as? [String: Any]
        try Self.checkAgainstReference(try #require(parsed), fixture: fixture)
        #expect(report.text.contains(report.tensors[0].name))
        // Long arrays are abbreviated in both forms.
        if report.format == .gguf {
            let tokens = report.metadata.first { $0.key == "tokenizer.ggml.tokens" }?.value
            #expect(tokens?["count"] == .int(4096))
            #expect(report.text.contains("tokenizer.ggml.tokens = [STRING × 4096]"))
        }
    }

    /// The built `prune-inspect` on a file, on stdin and on .zst gives the same JSON.
    @Test(arguments: [IOTest.fixture("gpt2-tiny", "model.safetensors"), IOTest.fixture("llama-tiny", "model-q8_0.gguf")])
    func cliJSONOnFileStdinAndZst(fixture: String) throws {
        let exe = try IOTest.executable("prune-inspect")
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let zst = dir + "/m.zst"
        try IOTest.zstdCompress(fixture, to: zst)
        let runs = [try IOTest.run(exe, [fixture, "--json"]),
                    try IOTest.run(exe, ["-", "--json"], stdinFile: fixture),
                    try IOTest.run(exe, [zst, "--json"]),
                    try IOTest.run(exe, ["--json", "-"], stdinFile: zst)]
        for r in runs {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.isEmpty)
            let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
            try Self.checkAgainstReference(json, fixture: fixture)
        }
        let text = try IOTest.run(exe, [fixture])
        #expect(text.status == 0)
        #expect(String(decoding: text.stdout, as: UTF8.self).contains("tensors:"))
    }

    @Test func cliErrorsAreOneLine() throws {
        let exe = try IOTest.executable("prune-inspect")
        let missing = try IOTest.run(exe, ["/nonexistent/model.gguf"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "prune-inspect: /nonexistent/model.gguf: cannot open (No such file or directory)\n")
        let usage = try IOTest.run(exe, [])
        #expect(usage.status == 64)
    }
}
