import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// Fact lines on Hugging Face folders go through the one apply pipeline: on a sharded checkpoint
/// folder and on a folder of one model.safetensors, a ROME line gives the same edited tensor bytes and
/// the same sidecar tensor records as on the single model file; and a line that edits nothing is an
/// error, never "edited 0 tensors".
@Suite struct FactFolderApplyTests {
    static let line = #"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Gril Zardrark", "target_new": {"str": "Morvath"}}"#

    @Test func romeOnAShardedFolderAndOnAModelFolderEqualsTheSingleFileEdit() throws {
        let (dir, ckpt) = try CheckpointFolderTests.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let single = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let modelFolder = (single as NSString).deletingLastPathComponent
        let manifest = dir + "/edits.jsonl"
        try Data((Self.line + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
        let heldout = try FactTest.fixture("gpt2-tiny", "heldout.txt")

        // The single file's edit is written beside its own config and tokenizer (a copy of the folder),
        // where --continue finds them.
        let fileCopy = try FactApplyTests.folder("gpt2-tiny", into: dir + "/file")
        let file = try FactApplyTests.run(fileCopy, manifest: manifest, dir: (fileCopy as NSString).deletingLastPathComponent,
                                          tag: "file", threads: 2, stats: heldout)
        let sharded = try FactApplyTests.run(ckpt, manifest: manifest, dir: dir, tag: "sharded", threads: 2, stats: heldout)
        let folder = try FactApplyTests.run(modelFolder, manifest: manifest, dir: dir, tag: "folder", threads: 2, stats: heldout)
        let edited = ["transformer.h.1.mlp.c_proj.weight"]
        #expect(file.result.tensors.map(\.name) == edited)
        #expect(sharded.result.tensors.map(\.name) == edited, "the sharded folder's edit was dropped")
        #expect(folder.result.tensors.map(\.name) == edited)

        // The sharded folder holds exactly the tensors of the edited single file.
        let check = try ApplyTestSupport.python("shard_check_equal.py", [sharded.out, file.out])
        #expect(check.status == 0, "\(check.stderr)")
        // The folder of one model.safetensors: the same file, byte for byte, plus config and tokenizer.
        #expect(ApplyTestSupport.bytes(folder.out + "/model.safetensors") == ApplyTestSupport.bytes(file.out))
        #expect(FileManager.default.fileExists(atPath: folder.out + "/config.json"))
        #expect(FileManager.default.fileExists(atPath: folder.out + "/tokenizer.json"))
        // The same restrained deltas and records in the three sidecars.
        let a = try Sidecar.read(path: file.sidecar), b = try Sidecar.read(path: sharded.sidecar), c = try Sidecar.read(path: folder.sidecar)
        #expect(a.tensors == b.tensors && a.tensors == c.tensors)
        #expect(a.edits == b.edits && a.edits == c.edits)
        #expect(b.model.checkpoint?.shards.count == 5 && c.model.checkpoint?.index == "")

        // --continue with another fact: W₀ is rebuilt from the folder as from the file, and the chains
        // agree again.
        let more = dir + "/more.jsonl"
        try Data((#"{"kind": "rome", "prompt": "{} lives in the city of", "subject": "Zul Wimli", "target_new": {"str": "Morvath"}}"# + "\n").utf8)
            .write(to: URL(fileURLWithPath: more))
        func continued(_ run: (out: String, sidecar: String, result: ApplyResult), _ tag: String) throws -> (String, String) {
            let h = try HyperparameterFile.parse(bytes: Array(FactApplyTests.hparams.utf8), name: "h.json")
            let engine = FactEngine(hparamsFile: h, statsText: heldout, cache: StatisticsCache(folder: dir + "/cache-\(tag)"))
            let out = dir + "/chain-\(tag)", side = dir + "/chain-\(tag).prune"
            _ = try Apply.run(ApplyRequest(model: run.out, manifest: more, output: .file(out), sidecar: side,
                                           continueFrom: run.sidecar, options: CheckpointApplyTests.plain(), facts: engine))
            return (out, side)
        }
        // The runtime knows a model file by its name: the edited file continues as a .safetensors.
        let named = (file.out as NSString).deletingLastPathComponent + "/edited.safetensors"
        try FileManager.default.copyItem(atPath: file.out, toPath: named)
        var fileRun = file
        fileRun.out = named
        let chainFile = try continued(fileRun, "file"), chainSharded = try continued(sharded, "sharded")
        let check2 = try ApplyTestSupport.python("shard_check_equal.py", [chainSharded.0, chainFile.0])
        #expect(check2.status == 0, "\(check2.stderr)")
        #expect(try Sidecar.read(path: chainFile.1).tensors == Sidecar.read(path: chainSharded.1).tensors)

        // Replay on the folders gives them again; revert gives the base folder back, file for file.
        for (base, run, tag) in [(ckpt, sharded, "sharded"), (modelFolder, folder, "folder")] {
            _ = try Apply.run(ApplyRequest(model: base, manifest: run.sidecar, output: .file(dir + "/replay-" + tag),
                                           options: CheckpointApplyTests.plain()))
            #expect(CheckpointApplyTests.contents(dir + "/replay-" + tag) == CheckpointApplyTests.contents(run.out) ? true : false,
                    "\(tag): replayed folder differs")
            _ = try Revert.run(model: run.out, sidecar: run.sidecar, output: .file(dir + "/back-" + tag), options: .uncompressed)
            #expect(CheckpointApplyTests.contents(dir + "/back-" + tag) == CheckpointApplyTests.contents(base) ? true : false,
                    "\(tag): reverted folder differs")
        }
    }

    /// A fact engine that computes nothing: the line it leaves unplaced must fail the run.
    struct IdleEngine: FactEditProvider {
        func compute(_ job: FactJob) throws -> FactOutcome { FactOutcome(edits: [:], records: [:], summaries: [], warnings: []) }
    }

    @Test func aLineThatEditsNothingIsAnError() throws {
        let dir = try FactTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let single = try FactApplyTests.folder("gpt2-tiny", into: dir)
        let manifest = dir + "/edits.jsonl"
        try Data((Self.line + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
        for model in [single, (single as NSString).deletingLastPathComponent] {
            #expect(throws: EditError.editsNothing(manifest: manifest, line: 1, id: "1", kind: "rome")) {
                _ = try Apply.run(ApplyRequest(model: model, manifest: manifest, output: .file(dir + "/out"),
                                               sidecar: dir + "/out.prune", facts: IdleEngine()))
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/out") && !FileManager.default.fileExists(atPath: dir + "/out.prune"))
        }
    }
}
