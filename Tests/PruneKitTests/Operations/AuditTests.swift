import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// prune-audit on sidecars that prune-apply wrote: verdicts and exit codes on the base, the edited
/// model and unrelated models; the recorded numbers against an independent numpy computation from
/// the model files; a damaged sidecar is refused.
@Suite("Audit") struct AuditTests {
    static let tensor = "transformer.h.1.mlp.c_proj.weight"

    /// Writes a rank-2 manifest for gpt2's c_proj (Conv1D, stored [1024, 256]) and applies it.
    static func applied(in dir: String, restraint: String = "log") throws -> (base: String, edited: String, manifest: String, sidecar: String) {
        let base = try ReportTest.fixture("gpt2-tiny", "model.safetensors")
        var rng = SplitMix64(seed: 11)
        func row(_ n: Int) -> String { "[" + (0..<n).map { _ in String(format: "%.4f", rng.nextSigned() * 0.8) }.joined(separator: ",") + "]" }
        let u = "[" + (0..<1024).map { _ in row(2) }.joined(separator: ",") + "]"
        let v = "[" + (0..<256).map { _ in row(2) }.joined(separator: ",") + "]"
        let manifest = dir + "/edits.jsonl"
        try "{\"id\": \"fact-1\", \"kind\": \"lowrank\", \"tensor\": \"\(tensor)\", \"u\": \(u), \"v\": \(v), \"scale\": 1.5}\n"
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let edited = dir + "/edited.safetensors.zst"
        let r = try ReportTest.run(try ReportTest.binary("prune-apply"),
                                   [base, manifest, "-o", edited, "--restraint", restraint])
        guard r.status == 0 else { throw ReportTest.Failure("prune-apply failed: \(r.stderr)") }
        return (base, edited, manifest, dir + "/edits.prune")
    }

    @Test("verdict and exit code: base 0, edited 0, unrelated or foreign-edited 2")
    func verdicts() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (base, edited, _, sidecar) = try Self.applied(in: dir)
        let exe = try ReportTest.binary("prune-audit")

        func audit(_ model: String) throws -> (Int32, [String: Any]) {
            let r = try ReportTest.run(exe, [sidecar, model, "--json"])
            return (r.status, try ReportTest.parseJSON(r.stdout))
        }
        let (s0, j0) = try audit(base)
        #expect(s0 == 0)
        #expect(j0["verdict"] as? String == "base")
        let (s1, j1) = try audit(edited)
        #expect(s1 == 0)
        #expect(j1["verdict"] as? String == "edited")
        // Decompressed edited model: same verdict (hashes are of the decompressed bytes).
        let plain = dir + "/edited.safetensors"
        #expect(try ReportTest.sh("zstd -q -d '\(edited)' -o '\(plain)'").status == 0)
        #expect(try audit(plain).1["verdict"] as? String == "edited")

        let (s2, j2) = try audit(try ReportTest.fixture("llama-tiny", "model.safetensors"))
        #expect(s2 == 2)
        #expect(j2["verdict"] as? String == "neither")
        let model2 = try #require(j2["model"] as? [String: Any])
        let states2 = try #require(model2["tensors"] as? [[String: Any]])
        #expect(states2.first?["match"] as? String == "missing")

        // The base with a different tensor edited by another tool: the audited tensor still
        // matches the base, and the verdict is neither.
        let foreign = dir + "/foreign.safetensors"
        _ = try ReportTest.python("report_make_edited.py", [base, foreign, "--rank", "1", "transformer.h.0.attn.c_proj.weight"])
        let (s3, j3) = try audit(foreign)
        #expect(s3 == 2)
        #expect(j3["verdict"] as? String == "neither")
        let t3 = try #require((j3["tensors"] as? [[String: Any]])?.first)
        #expect(t3["model_match"] as? String == "base")

        // The edited tensor itself changed: it matches neither side.
        let touched = dir + "/touched.safetensors"
        _ = try ReportTest.python("report_make_edited.py", [plain, touched, "--rank", "1", Self.tensor])
        let (s4, j4) = try audit(touched)
        #expect(s4 == 2)
        #expect((j4["tensors"] as? [[String: Any]])?.first?["model_match"] as? String == "neither")

        // Text mode says it too, and the verdict line names the model.
        let r = try ReportTest.run(exe, [sidecar, base])
        #expect(r.status == 0)
        #expect(r.stdout.contains("BASE"))
    }

    @Test("recorded numbers match numpy on the model files; edits and parameters are listed",
          arguments: ["log", "linear", "none"])
    func numbers(restraint: String) throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (base, edited, manifest, sidecar) = try Self.applied(in: dir, restraint: restraint)
        let ref = try ReportTest.python("report_audit_reference.py", [base, edited, manifest])
        let expected = try #require(ref[Self.tensor] as? [String: Any])

        let r = try ReportTest.run(try ReportTest.binary("prune-audit"), [sidecar, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try ReportTest.parseJSON(r.stdout)
        #expect(j["verdict"] is NSNull)
        let integrity = try #require(j["integrity"] as? [String: Any])
        #expect(integrity["ok"] as? Bool == true)
        #expect(integrity["consistent"] as? Bool == true)
        #expect((integrity["parts_verified"] as? Int ?? 0) >= 4)
        let params = try #require(j["parameters"] as? [String: Any])
        #expect(params["restraint"] as? String == restraint)
        #expect(params["schedule"] as? String == "end")
        #expect(abs((params["alpha"] as? Double ?? 0) - M_E) < 1e-5)
        #expect(params["tool_version"] as? String == PruneVersion.string)
        let edits = try #require(j["edits"] as? [[String: Any]])
        #expect(edits.count == 1)
        #expect(edits[0]["id"] as? String == "fact-1")
        #expect(edits[0]["kind"] as? String == "lowrank")
        #expect(edits[0]["tensors"] as? [String] == [Self.tensor])

        let tensors = try #require(j["tensors"] as? [[String: Any]])
        #expect(tensors.count == 1)
        let t = tensors[0]
        #expect(t["name"] as? String == Self.tensor)
        let smax = try #require(expected["sigma_max_w0"] as? Double)
        #expect(abs((t["sigma_max_w0"] as? Double ?? 0) - smax) <= 1e-5 * smax)
        let rawSV = try #require(expected["sv_raw"] as? [Double])
        let before = try #require(t["top_singular_values_before"] as? [Double])
        for i in 0..<2 { #expect(abs(before[i] - rawSV[i]) <= 1e-5 * rawSV[0]) }
        // What was actually added to the model (edited − base, in numpy) is what the sidecar says.
        let applied = try #require(expected["sv_applied"] as? [Double])
        let after = try #require(t["top_singular_values_after"] as? [Double])
        for i in 0..<2 { #expect(abs(after[i] - applied[i]) <= 1e-4 * applied[0]) }
        let restrained = try #require(t["components_restrained"] as? Int)
        #expect(restrained == (restraint == "none" ? 0 : rawSV.prefix(2).filter { $0 >= smax }.count))
        let rel = try #require(expected["rel_perturbation"] as? Double)
        #expect(abs((t["relative_perturbation"] as? Double ?? 0) - rel) <= 1e-4 * rel)
    }

    @Test("a damaged sidecar is refused with exit 1, naming the part")
    func damaged() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, _, _, sidecar) = try Self.applied(in: dir)
        var bytes = try #require(FileManager.default.contents(atPath: sidecar))
        bytes[bytes.count - 3] ^= 0x40           // inside the last part's data
        let bad = dir + "/bad.prune"
        try bytes.write(to: URL(fileURLWithPath: bad))
        let r = try ReportTest.run(try ReportTest.binary("prune-audit"), [bad, "--json"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("prune-audit: \(bad):"))
        #expect(r.stderr.contains("SHA-256"))
        let j = try ReportTest.parseJSON(r.stdout)
        #expect((j["integrity"] as? [String: Any])?["ok"] as? Bool == false)
    }
}
