import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// What every recorded sidecar of an older version must still do with the current code: replay to
/// the recorded output hash, audit as intact and consistent (telling the output and the base
/// apart), and revert to the base byte for byte.
enum RecordedSidecarCheck {
    /// Apply's options with an uncompressed output.
    static var plain: ApplyOptions {
        var o = ApplyOptions()
        o.output = .uncompressed
        return o
    }

    static func replayAuditRevert(sidecar sidecarPath: String, base: String, formatVersion: Int) throws {
        let dir = try ApplyTestSupport.scratch("recorded-sidecar")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = try Sidecar.read(path: sidecarPath)
        #expect(sidecar.formatVersion == formatVersion)
        let out = dir + "/out.bin"
        let replay = try Apply.run(ApplyRequest(model: base, manifest: sidecarPath, output: .file(out), options: plain))
        #expect(replay.mode == .replay)
        #expect(SHA256Hasher.hex(ApplyTestSupport.bytes(out)) == sidecar.model.outputSHA256)
        let edited = try SidecarAudit.run(sidecar: sidecarPath, model: out)
        #expect(edited.verdict == .edited)
        #expect(edited.integrity.manifestsVerified == sidecar.manifests.count)
        #expect(edited.tensors.allSatisfy { $0.consistent })
        #expect(try SidecarAudit.run(sidecar: sidecarPath, model: base).verdict == .base)
        let back = dir + "/back.bin"
        _ = try Revert.run(model: out, sidecar: sidecarPath, output: .file(back), options: .uncompressed)
        #expect(ApplyTestSupport.bytes(back) == ApplyTestSupport.bytes(base) ? true : false, "revert is not the base")
    }
}
