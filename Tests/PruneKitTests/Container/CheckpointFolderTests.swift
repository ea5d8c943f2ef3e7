import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The sharded-folder reader against folders sharded in Python exactly as save_pretrained lays them out.
@Suite struct CheckpointFolderTests {
    /// Shards a fixture with Tests/scripts/shard_checkpoint.py into a fresh folder.
    static func shard(_ model: String, maxShardBytes: Int) throws -> (dir: String, folder: String) {
        let dir = try ApplyTestSupport.scratch("shards")
        let r = try ApplyTestSupport.python("shard_checkpoint.py",
                                            [ApplyTestSupport.fixture(model), dir + "/ckpt", String(maxShardBytes)])
        guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        return (dir, dir + "/ckpt")
    }

    @Test func readsEveryTensorOfTheShardsAsTheSingleFileHoldsIt() throws {
        for (model, limit, shards) in [("gpt2-tiny", 4_000_000, 5), ("llama-tiny", 3_000_000, 7)] {
            let (dir, path) = try Self.shard(model, maxShardBytes: limit)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let folder = try CheckpointFolder(path: path)
            #expect(folder.indexName == "model.safetensors.index.json")
            #expect(folder.shards.count == shards, "\(model)")
            #expect(folder.shards.map(\.name) == (1...shards).map { String(format: "model-%05d-of-%05d.safetensors", $0, shards) })
            #expect(folder.otherFiles.contains("config.json"))
            #expect(folder.otherFiles.contains("tokenizer.json") || folder.otherFiles.contains("tokenizer.model"))
            let tensors = try folder.open()
            let single = try ModelFile(path: ApplyTestSupport.fixture(model + "/model.safetensors"))
            #expect(Set(tensors.tensors.map(\.name)) == Set(single.tensors.map(\.name)))
            for t in single.tensors {
                let a = try single.data(for: t.name)
                let b = try tensors.withData(for: t.name) { Array($0) }
                #expect(a == b, "\(model) \(t.name)")
                #expect(tensors.info(named: t.name)?.shape == t.shape)
            }
        }
    }

    @Test func refusesAnIndexThatDisagreesWithTheShards() throws {
        let (dir, path) = try Self.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let indexPath = path + "/model.safetensors.index.json"
        let original = try String(contentsOfFile: indexPath, encoding: .utf8)
        // A tensor moved to another shard in the index only.
        let moved = original.replacingOccurrences(
            of: "\"transformer.wte.weight\": \"model-00001-of-00005.safetensors\"",
            with: "\"transformer.wte.weight\": \"model-00002-of-00005.safetensors\"")
        #expect(moved != original)
        try moved.write(toFile: indexPath, atomically: true, encoding: .utf8)
        do {
            _ = try CheckpointFolder(path: path).headers()
            Issue.record("accepted an index that disagrees with the shards")
        } catch let e as CheckpointFolderError {
            guard case .tensorNotInShard = e else { Issue.record("wrong error \(e)"); return }
        }
        // A shard name that leaves the folder.
        try original.replacingOccurrences(of: "\"model-00005-of-00005.safetensors\"", with: "\"../model-00005-of-00005.safetensors\"")
            .write(toFile: indexPath, atomically: true, encoding: .utf8)
        do {
            _ = try CheckpointFolder(path: path)
            Issue.record("accepted a shard outside the folder")
        } catch let e as CheckpointFolderError {
            guard case .badShardName = e else { Issue.record("wrong error \(e)"); return }
            #expect(e.errorDescription?.hasPrefix(indexPath + ": ") == true)
        }
        // A missing shard.
        try original.write(toFile: indexPath, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: path + "/model-00003-of-00005.safetensors")
        #expect(throws: CheckpointFolderError.missingShard(path: indexPath, shard: "model-00003-of-00005.safetensors")) {
            _ = try CheckpointFolder(path: path)
        }
    }

    @Test func aFolderWithoutAnIndexIsRefusedClearly() throws {
        let dir = try ApplyTestSupport.scratch("noindex")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: CheckpointFolderError.noIndex(path: dir)) { _ = try CheckpointFolder(path: dir) }
        #expect(throws: CheckpointFolderError.notAFolder(path: dir + "/x")) { _ = try CheckpointFolder(path: dir + "/x") }
    }
}
