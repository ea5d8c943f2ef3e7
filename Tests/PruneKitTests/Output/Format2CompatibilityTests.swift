import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Sidecars of format 2 with `lost-bits` residuals on F32, F16 and BF16 tensors, written by prune at
/// commit 7c1c1c2 (Tests/PruneKitTests/Resources/format2, see its README). The current code replays,
/// reverts and audits them, and applying their manifests again writes the same residual bytes: a
/// change to the lost-bits arithmetic that altered the format would fail here.
@Suite struct Format2CompatibilityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var sidecar: String
        var manifest: String
        /// The base model: "samples:<rel>", "fixtures:<rel>" or "format2:<rel>".
        var base: String
        var testDescription: String { sidecar }
    }

    static let cases: [Case] = [
        Case(sidecar: "strong.prune", manifest: "strong.jsonl", base: "samples:gpt2-tiny/model.safetensors"),
        Case(sidecar: "lora-f16.prune", manifest: "lora-strong.jsonl", base: "fixtures:gpt2-tiny/model-f16.gguf"),
        Case(sidecar: "bf16.prune", manifest: "bf16.jsonl", base: "format2:model-bf16.safetensors"),
    ]

    static func resource(_ name: String) -> String { ApplyTestSupport.packageRoot + "/Tests/PruneKitTests/Resources/format2/" + name }

    static func base(_ c: Case) -> String {
        let (kind, rel) = (c.base.prefix { $0 != ":" }, String(c.base.drop { $0 != ":" }.dropFirst()))
        switch kind {
        case "fixtures": return ApplyTestSupport.fixture(rel)
        case "samples": return ApplyTestSupport.packageRoot + "/samples/" + rel
        default: return resource(rel)
        }
    }

    @Test(arguments: cases)
    func replaysRevertsAndAudits(_ c: Case) throws {
        let recorded = try Sidecar.read(path: Self.resource(c.sidecar))
        #expect(!recorded.tensors.isEmpty && recorded.tensors.allSatisfy { $0.residualCodec == LostBits.codec })
        #expect(recorded.tensors.contains { !$0.residual.isEmpty })
        try RecordedSidecarCheck.replayAuditRevert(sidecar: Self.resource(c.sidecar), base: Self.base(c), formatVersion: 2)
    }

    @Test(arguments: cases)
    func applyingAgainWritesTheSameResiduals(_ c: Case) throws {
        let dir = try ApplyTestSupport.scratch("format2-again")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The manifests name their value files relative to themselves: samples' deltas and adapter.
        let fm = FileManager.default
        try fm.copyItem(atPath: Self.resource(c.manifest), toPath: dir + "/" + c.manifest)
        // (copies: a manifest may not reach outside its folder, through links either)
        try fm.copyItem(atPath: ApplyTestSupport.packageRoot + "/samples/deltas.safetensors", toPath: dir + "/deltas.safetensors")
        try fm.copyItem(atPath: ApplyTestSupport.packageRoot + "/samples/lora", toPath: dir + "/lora")
        let out = dir + "/out.bin"
        let r = try Apply.run(ApplyRequest(model: Self.base(c), manifest: dir + "/" + c.manifest, output: .file(out),
                                           sidecar: dir + "/again.prune", options: RecordedSidecarCheck.plain))
        let recorded = try Sidecar.read(path: Self.resource(c.sidecar))
        #expect(r.outputSHA256 == recorded.model.outputSHA256)
        let again = try Sidecar.read(path: dir + "/again.prune")
        #expect(again.tensors.map(\.name) == recorded.tensors.map(\.name))
        for (a, b) in zip(again.tensors, recorded.tensors) {
            #expect(a.residualCodec == b.residualCodec)
            #expect(a.residual == b.residual, "residual of \(a.name) differs from the recorded format-2 bytes")
        }
    }
}
