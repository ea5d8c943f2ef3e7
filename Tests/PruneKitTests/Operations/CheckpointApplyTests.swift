import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// prune-apply / replay / continuation / revert on a sharded checkpoint folder laid out as
/// save_pretrained writes it (Tests/scripts/shard_checkpoint.py).
@Suite struct CheckpointApplyTests {
    /// Every regular file of a folder by relative path, with its bytes.
    static func contents(_ folder: String) -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: CheckpointFolder.regularFiles(under: folder).map {
            ($0, ApplyTestSupport.bytes(folder + "/" + $0))
        })
    }

    static func plain() -> ApplyOptions {
        var o = ApplyOptions()
        o.output = .uncompressed
        return o
    }

    @Test func applyRevertGivesTheIdenticalFolderAndTheEditLoadsAsTheSingleFileEdit() throws {
        let (dir, ckpt) = try CheckpointFolderTests.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = ApplyTestSupport.packageRoot + "/samples"
        for f in ["edits.jsonl", "deltas.safetensors", "more.jsonl"] {
            try FileManager.default.copyItem(atPath: samples + "/" + f, toPath: dir + "/" + f)
        }
        // The folder, compressed (the default), and the single file, plain.
        let r = try Apply.run(ApplyRequest(model: ckpt, manifest: dir + "/edits.jsonl", output: .file(dir + "/out"),
                                           sidecar: dir + "/e.prune"))
        #expect(r.tensors.map(\.name) == ["transformer.h.1.mlp.c_proj.weight"])
        _ = try Apply.run(ApplyRequest(model: samples + "/gpt2-tiny/model.safetensors", manifest: dir + "/edits.jsonl",
                                       output: .file(dir + "/single.safetensors"), sidecar: dir + "/single.prune", options: Self.plain()))
        let folder = try CheckpointFolder(path: dir + "/out")
        let edited = folder.shards.filter { $0.file.hasSuffix(".zst") }.map(\.name)
        #expect(edited == ["model-00003-of-00005.safetensors"])
        // Untouched shards are hard links to the base's.
        for s in folder.shards where !s.file.hasSuffix(".zst") {
            var a = stat(), b = stat()
            #expect(stat(ckpt + "/" + s.name, &a) == 0 && stat(dir + "/out/" + s.name, &b) == 0 && a.st_ino == b.st_ino)
        }
        #expect(try folder.otherFiles == CheckpointFolder(path: ckpt).otherFiles)
        let check = try ApplyTestSupport.python("shard_check_equal.py", [dir + "/out", dir + "/single.safetensors"])
        #expect(check.status == 0, "\(check.stderr)")
        // Revert: the base folder, file for file.
        _ = try Revert.run(model: dir + "/out", sidecar: dir + "/e.prune", output: .file(dir + "/back"), options: .uncompressed)
        #expect(Self.contents(dir + "/back") == Self.contents(ckpt) ? true : false, "reverted folder differs")
        // Replay gives the edited folder; audit tells the folders apart.
        _ = try Apply.run(ApplyRequest(model: ckpt, manifest: dir + "/e.prune", output: .file(dir + "/replay")))
        #expect(Self.contents(dir + "/replay") == Self.contents(dir + "/out") ? true : false, "replayed folder differs")
        let sidecar = try Sidecar.read(path: dir + "/e.prune")
        #expect(sidecar.model.checkpoint?.shards.count == 5)
        // Continuation on the folder, then revert of the whole chain.
        let c = try Apply.run(ApplyRequest(model: dir + "/out", manifest: dir + "/more.jsonl", output: .file(dir + "/out2"),
                                           sidecar: dir + "/chain.prune", continueFrom: dir + "/e.prune"))
        #expect(c.mode == .continuation && c.tensors.count == 2)
        _ = try Revert.run(model: dir + "/out2", sidecar: dir + "/chain.prune", output: .file(dir + "/back2"), options: .uncompressed)
        #expect(Self.contents(dir + "/back2") == Self.contents(ckpt) ? true : false, "reverted chain differs")
    }

    @Test func aFolderNeedsAnOutputFolderAndASplitGGUFIsRefused() throws {
        let (dir, ckpt) = try CheckpointFolderTests.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: ApplyTestSupport.packageRoot + "/samples/edits.jsonl", toPath: dir + "/edits.jsonl")
        try FileManager.default.copyItem(atPath: ApplyTestSupport.packageRoot + "/samples/deltas.safetensors", toPath: dir + "/deltas.safetensors")
        #expect(throws: (any Error).self) {
            _ = try Apply.run(ApplyRequest(model: ckpt, manifest: dir + "/edits.jsonl", output: .stdout, sidecar: dir + "/e.prune"))
        }
        // An existing, non-empty output folder is never overwritten.
        try FileManager.default.createDirectory(atPath: dir + "/taken", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/taken/f", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) {
            _ = try Apply.run(ApplyRequest(model: ckpt, manifest: dir + "/edits.jsonl", output: .file(dir + "/taken"), sidecar: dir + "/e.prune"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/e.prune"))
    }
}
