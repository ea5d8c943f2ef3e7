import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Sidecars of format 1, written by prune before format 2 existed (Tests/PruneKitTests/Resources/format1,
/// see its README), still replay, revert, audit and continue with the current code.
@Suite struct Format1CompatibilityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var sidecar: String
        /// The base model: relative to the package root, or "fixtures:<rel>".
        var base: String
        var testDescription: String { sidecar }
    }

    static let cases: [Case] = [
        Case(sidecar: "edits.prune", base: "samples/gpt2-tiny/model.safetensors"),
        Case(sidecar: "chain.prune", base: "samples/gpt2-tiny/model.safetensors"),
        Case(sidecar: "lora.prune", base: "samples/gpt2-tiny/model-q8_0.gguf"),
        Case(sidecar: "lora-f16.prune", base: "fixtures:gpt2-tiny/model-f16.gguf"),
        Case(sidecar: "diff1.prune", base: "samples/gpt2-tiny/model.safetensors"),
    ]

    static func resource(_ name: String) -> String { ApplyTestSupport.packageRoot + "/Tests/PruneKitTests/Resources/format1/" + name }

    static func base(_ c: Case) -> String {
        c.base.hasPrefix("fixtures:") ? ApplyTestSupport.fixture(String(c.base.dropFirst(9))) : ApplyTestSupport.packageRoot + "/" + c.base
    }

    @Test(arguments: cases)
    func replaysRevertsAndAudits(_ c: Case) throws {
        try RecordedSidecarCheck.replayAuditRevert(sidecar: Self.resource(c.sidecar), base: Self.base(c), formatVersion: 1)
    }

    /// A format-1 chain continued by the current code gives the output the format-1 chain recorded
    /// (same restraint, same kernel), in a format-2 sidecar that reverts to the original base.
    @Test func continuesAFormat1Chain() throws {
        let dir = try ApplyTestSupport.scratch("format1-continue")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ApplyTestSupport.packageRoot + "/samples/gpt2-tiny/model.safetensors"
        let first = dir + "/edited.safetensors"
        _ = try Apply.run(ApplyRequest(model: base, manifest: Self.resource("edits.prune"), output: .file(first), options: RecordedSidecarCheck.plain))
        let second = dir + "/edited2.safetensors"
        let r = try Apply.run(ApplyRequest(model: first, manifest: ApplyTestSupport.packageRoot + "/samples/more.jsonl",
                                           output: .file(second), sidecar: dir + "/chain.prune",
                                           continueFrom: Self.resource("edits.prune"), options: RecordedSidecarCheck.plain))
        #expect(r.mode == .continuation)
        let recorded = try Sidecar.read(path: Self.resource("chain.prune"))
        #expect(r.outputSHA256 == recorded.model.outputSHA256)
        let chain = try Sidecar.read(path: dir + "/chain.prune")
        #expect(chain.formatVersion == Sidecar.formatVersion)
        #expect(chain.manifests.map(\.bytes) == recorded.manifests.map(\.bytes))
        _ = try Revert.run(model: second, sidecar: dir + "/chain.prune", output: .file(dir + "/back.safetensors"), options: .uncompressed)
        #expect(ApplyTestSupport.bytes(dir + "/back.safetensors") == ApplyTestSupport.bytes(base) ? true : false, "revert is not the base")
    }
}
