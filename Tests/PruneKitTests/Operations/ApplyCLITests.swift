import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The prune-apply / prune-revert executables: identity, stdin/stdout, default sidecar, bad input.
@Suite(.serialized) struct ApplyCLITests {
    static let models = [
        "gpt2-tiny/model.safetensors", "gpt2-tiny/model-f32.gguf", "gpt2-tiny/model-f16.gguf",
        "gpt2-tiny/model-q8_0.gguf", "gpt2-tiny/model-q4_k_m.gguf",
        "llama-tiny/model.safetensors", "llama-tiny/model-f32.gguf", "llama-tiny/model-f16.gguf",
        "llama-tiny/model-q8_0.gguf", "llama-tiny/model-q4_k_m.gguf",
    ]

    var apply: String { ApplyTestSupport.tool("prune-apply") }
    var revert: String { ApplyTestSupport.tool("prune-revert") }

    @Test(arguments: models) func emptyManifestIsTheIdentity(_ rel: String) throws {
        let model = ApplyTestSupport.fixture(rel)
        let dir = try ApplyTestSupport.scratch("identity")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/empty.jsonl", contents: Data("\n\n".utf8))
        let r = try ApplyTestSupport.run(apply, [model, dir + "/empty.jsonl", "-o", dir + "/out.zst"])
        #expect(r.status == 0, "\(r.stderr)")
        try ApplyTestSupport.unzstd(dir + "/out.zst", to: dir + "/out")
        #expect(ApplyTestSupport.bytes(dir + "/out") == ApplyTestSupport.bytes(model))
        let s = try Sidecar.read(path: dir + "/empty.prune")
        #expect(s.tensors.isEmpty && s.edits.isEmpty)
        #expect(s.model.baseSHA256 == s.model.outputSHA256)
        #expect(s.model.baseSHA256 == SHA256Hasher.hex(ApplyTestSupport.bytes(model)))
    }

    /// MODEL from stdin, output to stdout, the sidecar next to the manifest; then revert from stdin.
    @Test func stdinToStdoutAndDefaultSidecar() throws {
        let model = ApplyTestSupport.fixture("llama-tiny/model-f16.gguf")
        let dir = try ApplyTestSupport.scratch("stdio")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try ApplyEndToEndTests.makeManifest(
            .init(label: "", model: "", tensors: ["blk.0.attn_output.weight"], dense: nil), model: model, dir: dir, seed: 5)
        let r = try ApplyTestSupport.run(apply, ["-", m], stdin: model, stdoutFile: dir + "/out.zst")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("edited 1 tensor"))
        #expect(r.stderr.contains("largest σ"))
        #expect(FileManager.default.fileExists(atPath: dir + "/edits.prune"))
        let back = try ApplyTestSupport.run(revert, ["-", dir + "/edits.prune"], stdin: dir + "/out.zst", stdoutFile: dir + "/back")
        #expect(back.status == 0, "\(back.stderr)")
        #expect(ApplyTestSupport.bytes(dir + "/back") == ApplyTestSupport.bytes(model))
    }

    /// Every bad manifest names its line, and nothing is written (no model, no sidecar).
    @Test(arguments: [
        ("{\"kind\":\"lowrank\",\"tensor\":\"no.such.tensor\",\"u\":[1],\"v\":[1]}", "unknown tensor"),
        ("{\"kind\":\"lowrank\",\"tensor\":\"blk.0.attn_output.weight\",\"u\":[1,2],\"v\":[1,2]}", "wrong shape"),
        ("{\"kind\":\"sideways\",\"tensor\":\"blk.0.attn_output.weight\"}", "unknown kind"),
        ("{\"kind\":\"dense\",\"tensor\":\"blk.0.attn_output.weight\"}", "missing field"),
        ("{\"kind\":\"lowrank\",\"tensor\":\"blk.0.attn_output.weight\",\"u\":[1e999],\"v\":[1]}", "non-finite"),
        ("{\"kind\":\"dense\",\"tensor\":\"blk.0.attn_output.weight\",\"delta\":{\"file\":\"nope.npy\"}}", "missing file"),
        ("{\"kind\":\"lowrank\",\"tensor\":\"blk.0.attn_output.weight\",\"u\":[1],\"v\":[1],\"color\":1}", "unknown field"),
    ]) func badManifestNamesTheLineAndWritesNothing(_ bad: (String, String)) throws {
        let model = ApplyTestSupport.fixture("llama-tiny/model-q8_0.gguf")
        let dir = try ApplyTestSupport.scratch("bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Line 1 is a good edit, line 2 blank, line 3 the bad one.
        let good = try ApplyEndToEndTests.makeManifest(
            .init(label: "", model: "", tensors: ["blk.1.ffn_down.weight"], dense: nil), model: model, dir: dir, seed: 6,
            name: "good.jsonl")
        let first = String(decoding: ApplyTestSupport.bytes(good), as: UTF8.self).split(separator: "\n")[0]
        try (first + "\n\n" + bad.0 + "\n").write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        let r = try ApplyTestSupport.run(apply, [model, dir + "/bad.jsonl", "-o", dir + "/out.zst"])
        #expect(r.status == 1, "\(bad.1): \(r.stderr)")
        #expect(r.stderr.hasPrefix("prune-apply: "), "\(r.stderr)")
        #expect(r.stderr.contains("bad.jsonl:3") || r.stderr.contains("line 3"), "\(bad.1): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.zst"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.prune"))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "temporary files left: \(left)")
    }

    /// prune-revert refuses a model that is not the sidecar's output; replay refuses a wrong base.
    @Test func revertAndReplayRefuseTheWrongModel() throws {
        let model = ApplyTestSupport.fixture("llama-tiny/model.safetensors")
        let other = ApplyTestSupport.fixture("gpt2-tiny/model.safetensors")
        let dir = try ApplyTestSupport.scratch("wrong")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try ApplyEndToEndTests.makeManifest(ApplyEndToEndTests.cases[0], model: model, dir: dir, seed: 8)
        let ok = try ApplyTestSupport.run(apply, [model, m, "-o", dir + "/out.zst", "--threads", "1"])
        #expect(ok.status == 0, "\(ok.stderr)")

        // The base itself is not the edited model.
        let r1 = try ApplyTestSupport.run(revert, [model, dir + "/edits.prune", "-o", dir + "/back"])
        #expect(r1.status == 1)
        #expect(r1.stderr.hasPrefix("prune-revert: \(model): ") && r1.stderr.contains("sidecar"), "\(r1.stderr)")
        #expect(r1.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/back"))
        // A model of another format/architecture.
        let r2 = try ApplyTestSupport.run(revert, [other, dir + "/edits.prune", "-o", dir + "/back"])
        #expect(r2.status == 1, "\(r2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/back"))
        // Replay on the edited model instead of the base.
        let r3 = try ApplyTestSupport.run(apply, [dir + "/out.zst", dir + "/edits.prune", "-o", dir + "/replay"])
        #expect(r3.status == 1)
        #expect(r3.stderr.contains("base"), "\(r3.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/replay"))
        // A damaged sidecar.
        var s = ApplyTestSupport.bytes(dir + "/edits.prune")
        s[s.count - 3] ^= 0x55
        FileManager.default.createFile(atPath: dir + "/damaged.prune", contents: Data(s))
        let r4 = try ApplyTestSupport.run(revert, [dir + "/out.zst", dir + "/damaged.prune", "-o", dir + "/back"])
        #expect(r4.status == 1)
        #expect(r4.stderr.contains("damaged"), "\(r4.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/back"))
        // Never overwrite an input.
        let r5 = try ApplyTestSupport.run(apply, [model, m, "-o", m])
        #expect(r5.status == 1, "\(r5.stderr)")
        #expect(ApplyTestSupport.bytes(m).first == UInt8(ascii: "{"))
    }

    /// On a terminal (a pty made by script(1)): model data is refused, progress is shown;
    /// off a terminal there is no progress, only the summary line.
    @Test func terminalRefusalAndProgress() throws {
        let model = ApplyTestSupport.fixture("llama-tiny/model-q8_0.gguf")
        let dir = try ApplyTestSupport.scratch("tty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try ApplyEndToEndTests.makeManifest(
            .init(label: "", model: "", tensors: ["blk.0.attn_output.weight", "blk.1.ffn_down.weight"], dense: nil),
            model: model, dir: dir, seed: 12)
        let script = "/usr/bin/script"
        #expect(FileManager.default.isExecutableFile(atPath: script), "script(1) (bsdutils) is needed for this test")
        let refused = try ApplyTestSupport.run(script, ["-qec", "\(apply) \(model) \(m)", "/dev/null"])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("refusing to write model data to a terminal"), "\(refused.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/edits.prune"))
        let shown = try ApplyTestSupport.run(script, ["-qec", "\(apply) \(model) \(m) -o \(dir)/out.zst", "/dev/null"])
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("tensor 2/2 (2 edits)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("edited 2 tensors with 2 edits"))
        let quiet = try ApplyTestSupport.run(apply, [model, m, "-o", dir + "/out2.zst"])
        #expect(quiet.status == 0)
        #expect(!quiet.stderr.contains("tensor 1/2"))
        #expect(quiet.stderr.split(separator: "\n").count == 1, "\(quiet.stderr)")
        #expect(ApplyTestSupport.bytes(dir + "/out.zst") == ApplyTestSupport.bytes(dir + "/out2.zst"))
    }

    @Test func usageErrorsExit64() throws {
        let r = try ApplyTestSupport.run(apply, ["a", "b", "--restraint", "cubic"])
        #expect(r.status == 64, "\(r.stderr)")
        let r2 = try ApplyTestSupport.run(revert, [])
        #expect(r2.status == 64)
    }

    @Test func defaultSidecarPath() {
        #expect(Apply.defaultSidecarPath(forManifest: "edits.jsonl") == "edits.prune")
        #expect(Apply.defaultSidecarPath(forManifest: "/a.b/edits") == "/a.b/edits.prune")
        #expect(Apply.defaultSidecarPath(forManifest: "dir/x.y.jsonl") == "dir/x.y.prune")
        #expect(Apply.defaultSidecarPath(forManifest: ".hidden") == ".hidden.prune")
    }
}
