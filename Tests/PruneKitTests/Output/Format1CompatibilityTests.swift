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

    static func plain() -> ApplyOptions {
        var o = ApplyOptions()
        o.output = .uncompressed
        return o
    }

    @Test(arguments: cases)
    func replaysRevertsAndAudits(_ c: Case) throws {
        let dir = try ApplyTestSupport.scratch("format1")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecarPath = Self.resource(c.sidecar)
        let base = Self.base(c)
        let sidecar = try Sidecar.read(path: sidecarPath)
        #expect(sidecar.formatVersion == 1)
        // Replay: the recorded output, its hash checked by apply itself and here.
        let out = dir + "/out.bin"
        let replay = try Apply.run(ApplyRequest(model: base, manifest: sidecarPath, output: .file(out), options: Self.plain()))
        #expect(replay.mode == .replay)
        #expect(SHA256Hasher.hex(ApplyTestSupport.bytes(out)) == sidecar.model.outputSHA256)
        // Audit: intact, consistent, and it tells the output and the base apart.
        let edited = try SidecarAudit.run(sidecar: sidecarPath, model: out)
        #expect(edited.verdict == .edited)
        #expect(edited.integrity.manifestsVerified == sidecar.manifests.count)
        #expect(edited.tensors.allSatisfy { $0.consistent })
        #expect(try SidecarAudit.run(sidecar: sidecarPath, model: base).verdict == .base)
        // Revert: the base, byte for byte.
        let back = dir + "/back.bin"
        _ = try Revert.run(model: out, sidecar: sidecarPath, output: .file(back), options: .uncompressed)
        #expect(ApplyTestSupport.bytes(back) == ApplyTestSupport.bytes(base) ? true : false, "revert is not the base")
    }

    /// A format-1 chain continued by the current code gives the output the format-1 chain recorded
    /// (same restraint, same kernel), in a format-2 sidecar that reverts to the original base.
    @Test func continuesAFormat1Chain() throws {
        let dir = try ApplyTestSupport.scratch("format1-continue")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ApplyTestSupport.packageRoot + "/samples/gpt2-tiny/model.safetensors"
        let first = dir + "/edited.safetensors"
        _ = try Apply.run(ApplyRequest(model: base, manifest: Self.resource("edits.prune"), output: .file(first), options: Self.plain()))
        let second = dir + "/edited2.safetensors"
        let r = try Apply.run(ApplyRequest(model: first, manifest: ApplyTestSupport.packageRoot + "/samples/more.jsonl",
                                           output: .file(second), sidecar: dir + "/chain.prune",
                                           continueFrom: Self.resource("edits.prune"), options: Self.plain()))
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
