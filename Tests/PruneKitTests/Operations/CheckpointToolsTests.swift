import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// prune-diff, prune-audit and prune-inspect on sharded checkpoint folders laid out as
/// save_pretrained writes them (Tests/scripts/shard_checkpoint.py), including prune-apply's own
/// output folders (edited shards as `.zst`, listed in the index); bad folders and split GGUF parts
/// refused by every tool with one line naming the file.
@Suite struct CheckpointToolsTests {
    static let edited = "transformer.h.1.mlp.c_proj.weight"
    static let editedShard = "model-00003-of-00005.safetensors"

    /// A sharded gpt2-tiny (5 shards), the sample edit applied to it (compressed, the default) into
    /// `out` with sidecar `e.prune`, and to the single file into `single.safetensors`.
    static func editedFolder() throws -> (dir: String, ckpt: String, out: String, sidecar: String, single: String, base: String) {
        let (dir, ckpt) = try CheckpointFolderTests.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        let samples = ApplyTestSupport.packageRoot + "/samples"
        for f in ["edits.jsonl", "deltas.safetensors"] {
            try FileManager.default.copyItem(atPath: samples + "/" + f, toPath: dir + "/" + f)
        }
        _ = try Apply.run(ApplyRequest(model: ckpt, manifest: dir + "/edits.jsonl", output: .file(dir + "/out"),
                                       sidecar: dir + "/e.prune"))
        let base = ApplyTestSupport.fixture("gpt2-tiny/model.safetensors")
        _ = try Apply.run(ApplyRequest(model: base, manifest: dir + "/edits.jsonl", output: .file(dir + "/single.safetensors"),
                                       sidecar: dir + "/single.prune", options: CheckpointApplyTests.plain()))
        return (dir, ckpt, dir + "/out", dir + "/e.prune", dir + "/single.safetensors", base)
    }

    /// The index's weight_map, read with Foundation's JSON parser.
    static func weightMap(_ folder: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(root["weight_map"] as? [String: String])
    }

    // MARK: diff

    @Test func diffOfTheEditedFolderIsTheSingleFileDiff() throws {
        let s = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let folders = try ModelDiff.compare(s.ckpt, s.out)
        let files = try ModelDiff.compare(s.base, s.single)
        #expect(folders.tensors.map(\.name) == [Self.edited])
        #expect(files.tensors.map(\.name) == [Self.edited])
        #expect(folders.unchanged == 51 && files.unchanged == 51)
        #expect(folders.layout.isIdentical)
        #expect(folders.layout.shardsA?.count == 5 && folders.layout.shardsA?.compressed == 0)
        #expect(folders.layout.shardsB?.count == 5 && folders.layout.shardsB?.compressed == 1)
        let (f, g) = (try #require(folders.tensors.first), try #require(files.tensors.first))
        // The same bytes on both sides, so the same figures.
        #expect(f.changedElements == g.changedElements && f.changedElements > 0)
        #expect(f.maxAbs == g.maxAbs && f.relativeFrobenius == g.relativeFrobenius)
        #expect(f.spectrum?.rank == g.spectrum?.rank && f.spectrum?.rank == 2)
        #expect(f.spectrum?.topSingularValues == g.spectrum?.topSingularValues)
        #expect(f.sigmaMaxA == g.sigmaMaxA && f.sigmaMaxB == g.sigmaMaxB)
        // The text says where the tensors live.
        #expect(folders.text().contains("layout: same (safetensors, 52 tensors; A in 5 shards; B in 5 shards (1 zstd-compressed))"))
    }

    @Test func aFolderAndTheSingleFileOfItsTensorsDoNotDiffer() throws {
        let (dir, ckpt) = try CheckpointFolderTests.shard("gpt2-tiny", maxShardBytes: 4_000_000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let single = ApplyTestSupport.fixture("gpt2-tiny/model.safetensors")
        let count = try ModelFile(path: single).tensors.count
        for (a, b) in [(ckpt, single), (single, ckpt), (ckpt, ckpt)] {
            let r = try ModelDiff.compare(a, b)
            #expect(r.isIdentical, "\(a) vs \(b)")
            #expect(r.unchanged == count)
        }
        let cli = try SafetyTest.run(try SafetyTest.tool("prune-diff"), [ckpt, single])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout.contains("unchanged: \(count) tensors byte-identical"))
        #expect(!cli.stdout.split(separator: "\n").contains { $0.hasPrefix("changed:") })
        #expect(cli.stdout.contains("layout: same (safetensors, \(count) tensors; A in 5 shards)"))
    }

    @Test func diffSidecarBetweenFoldersRevertsAndReplaysThem() throws {
        let s = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try DiffSidecar.write(a: s.ckpt, b: s.out, to: s.dir + "/d.prune")
        #expect(r.tensors.map(\.name) == [Self.edited] && r.tensors.first?.rank == 2)
        let sidecar = try Sidecar.read(path: s.dir + "/d.prune")
        #expect(sidecar.model.checkpoint?.shards.count == 5)
        // Its folder hashes are those apply recorded.
        let applied = try Sidecar.read(path: s.sidecar)
        #expect(sidecar.model.baseSHA256 == applied.model.baseSHA256 && sidecar.model.outputSHA256 == applied.model.outputSHA256)
        // Revert of B gives A's folder file for file; replay on A gives B's shards.
        _ = try Revert.run(model: s.out, sidecar: s.dir + "/d.prune", output: .file(s.dir + "/back"), options: .uncompressed)
        #expect(CheckpointApplyTests.contents(s.dir + "/back") == CheckpointApplyTests.contents(s.ckpt) ? true : false,
                "reverted folder differs")
        _ = try Apply.run(ApplyRequest(model: s.ckpt, manifest: s.dir + "/d.prune", output: .file(s.dir + "/replay")))
        #expect(CheckpointApplyTests.contents(s.dir + "/replay") == CheckpointApplyTests.contents(s.out) ? true : false,
                "replayed folder differs")
        // A folder and a file cannot make one sidecar.
        #expect(throws: DiffError.self) { _ = try DiffSidecar.write(a: s.ckpt, b: s.single, to: s.dir + "/x.prune") }
    }

    // MARK: audit

    @Test func auditTellsTheBaseTheEditedAndAnotherFolderApartByShardHashes() throws {
        let s = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        // Shard hashes from coreutils (the edited shard decompressed by the zstd tool).
        try ApplyTestSupport.unzstd(s.out + "/" + Self.editedShard + ".zst", to: s.dir + "/edited-shard")
        let baseShard = try IOTest.sha256sum(s.ckpt + "/" + Self.editedShard)
        let editedShard = try IOTest.sha256sum(s.dir + "/edited-shard")

        let asBase = try SidecarAudit.run(sidecar: s.sidecar, model: s.ckpt)
        #expect(asBase.verdict == .base && asBase.sound)
        #expect(asBase.model?.shards?.count == 5)
        #expect(asBase.model?.shards?.first { $0.name == Self.editedShard }?.sha256 == baseShard)
        #expect(asBase.tensors.first?.sigmaMaxAgrees == true)

        let asEdited = try SidecarAudit.run(sidecar: s.sidecar, model: s.out, base: s.ckpt)
        #expect(asEdited.verdict == .edited && asEdited.sound)
        let shard = try #require(asEdited.model?.shards?.first { $0.name == Self.editedShard })
        #expect(shard.sha256 == editedShard && shard.state == .edited && !shard.untouched && shard.file == Self.editedShard + ".zst")
        #expect(asEdited.model?.shards?.filter(\.untouched).count == 4)
        #expect(asEdited.model?.shards?.filter { $0.state == .base }.count == 4)
        for sh in asEdited.model?.shards ?? [] where sh.untouched {
            #expect(sh.sha256 == (try IOTest.sha256sum(s.ckpt + "/" + sh.name)))
        }
        #expect(asEdited.base?.isRecordedBase == true && asEdited.base?.matchesRecordedOutput == true)
        #expect(asEdited.tensors.allSatisfy { $0.materialised == true })
        #expect(asEdited.text().contains("model: \(s.out): EDITED"))
        #expect(asEdited.text().contains("shards: 5, each with its recorded output SHA-256 (1 edited, 4 untouched)"))

        // Another folder: the base with one untouched shard's tensor bytes changed.
        let other = s.dir + "/other"
        try FileManager.default.copyItem(atPath: s.ckpt, toPath: other)
        let victim = other + "/model-00001-of-00005.safetensors"
        var bytes = ApplyTestSupport.bytes(victim)
        bytes[bytes.count - 1] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        let neither = try SidecarAudit.run(sidecar: s.sidecar, model: other)
        #expect(neither.verdict == .neither)
        #expect(neither.model?.shards?.first { $0.name == "model-00001-of-00005.safetensors" }?.state == .neither)
        #expect(neither.model?.shards?.filter { $0.state == .base }.count == 4)
        let cli = try SafetyTest.run(try SafetyTest.tool("prune-audit"), [s.sidecar, other])
        #expect(cli.status == 2)
        #expect(cli.stdout.contains("  shard model-00001-of-00005.safetensors: neither\n"))
        #expect(cli.stdout.contains("  shard model-00003-of-00005.safetensors: base\n"))
        #expect(cli.stdout.contains("  shard model-00002-of-00005.safetensors: untouched (its recorded hash)\n"))
        // The single file of the same tensors is not the folder the sidecar records.
        #expect(try SidecarAudit.run(sidecar: s.sidecar, model: s.base).verdict == .neither)
        #expect(throws: (any Error).self) { _ = try SidecarAudit.run(sidecar: s.sidecar, base: s.base) }
    }

    // MARK: inspect

    @Test func inspectListsEveryTensorOnceWithItsShard() throws {
        let s = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        for folder in [s.ckpt, s.out] {
            let map = try Self.weightMap(folder)
            let r = try Inspect.run(path: folder)
            let names = r.tensors.map(\.name)
            #expect(names.count == map.count && Set(names) == Set(map.keys), "\(folder)")
            #expect(Set(names).count == names.count)
            let shards = try #require(r.tensorShards)
            for (name, shard) in zip(names, shards) { #expect(map[name] == shard, "\(name)") }
            #expect(r.shards?.map(\.name) == (1...5).map { String(format: "model-%05d-of-00005.safetensors", $0) })
            // Each shard's tensor table is what Python's reference reader gives for that shard.
            for sh in r.shards ?? [] where !sh.compressed {
                let ref = try #require(IOTest.python("io_reference.py", [folder + "/" + sh.file]) as? [String: Any])
                let refTensors = try #require(ref["tensors"] as? [[String: Any]])
                let mine = zip(r.tensors, shards).filter { $0.1 == sh.name }.map(\.0)
                #expect(mine.map(\.name) == refTensors.compactMap { $0["name"] as? String })
                #expect(mine.map(\.offset) == refTensors.compactMap { $0["offset"] as? Int })
                #expect(mine.map(\.byteCount) == refTensors.compactMap { $0["bytes"] as? Int })
            }
        }
        // The folder's SHA-256 is that of `sha256sum model-*.safetensors` (coreutils).
        let digest = try IOTest.sh("cd '\(s.ckpt)' && LC_ALL=C sha256sum model-*.safetensors | sha256sum")
        #expect(try Inspect.run(path: s.ckpt).sha256 == String(String(decoding: digest.stdout, as: UTF8.self).prefix(64)))
        let out = try Inspect.run(path: s.out)
        #expect(out.shards?.filter(\.compressed).map(\.file) == [Self.editedShard + ".zst"])
        #expect(out.sha256 == (try Sidecar.read(path: s.sidecar)).model.outputSHA256)
        let cli = try SafetyTest.run(try SafetyTest.tool("prune-inspect"), [s.out])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout.hasPrefix("\(s.out): sharded safetensors checkpoint, 5 shards (index model.safetensors.index.json)"))
        #expect(cli.stdout.contains(Self.edited) && cli.stdout.contains(Self.editedShard + ".zst"))
        let json = try SafetyTest.run(try SafetyTest.tool("prune-inspect"), [s.out, "--json"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let tensors = try #require(parsed["tensors"] as? [[String: Any]])
        #expect(tensors.first { $0["name"] as? String == Self.edited }?["shard"] as? String == Self.editedShard)
    }

    // MARK: bad folders

    /// Runs inspect, diff and audit on a bad folder: each exits 1 with one line naming `file` and `place`.
    static func expectRefused(_ bad: String, good: String, sidecar: String, file: String, place: String) throws {
        let runs: [(String, [String])] = [("prune-inspect", [bad]), ("prune-diff", [good, bad]), ("prune-diff", [bad, good]),
                                          ("prune-audit", [sidecar, bad]), ("prune-audit", ["--base", bad, sidecar])]
        for (tool, args) in runs {
            let r = try SafetyTest.run(try SafetyTest.tool(tool), args)
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(r.status == 1, "\(tool) \(args): status \(r.status)")
            #expect(lines.count == 1, "\(tool) \(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("\(tool): \(file)"), "\(tool) \(args): \(r.stderr)")
            #expect(r.stderr.contains(place), "\(tool) \(args): \(r.stderr)")
            #expect(!r.stdout.contains("tensors:"), "\(tool) printed a report")
        }
    }

    @Test func badFoldersAreRefusedByEveryToolInOneLine() throws {
        let s = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let index = "model.safetensors.index.json"
        // A missing shard.
        let missing = s.dir + "/missing"
        try FileManager.default.copyItem(atPath: s.ckpt, toPath: missing)
        try FileManager.default.removeItem(atPath: missing + "/model-00004-of-00005.safetensors")
        try Self.expectRefused(missing, good: s.ckpt, sidecar: s.sidecar, file: missing + "/" + index,
                               place: "shard 'model-00004-of-00005.safetensors'")
        // The index puts a tensor in a shard that does not hold it.
        let moved = s.dir + "/moved"
        try FileManager.default.copyItem(atPath: s.ckpt, toPath: moved)
        let text = try String(contentsOfFile: moved + "/" + index, encoding: .utf8)
        let changed = text.replacingOccurrences(of: "\"transformer.wte.weight\": \"model-00001-of-00005.safetensors\"",
                                                with: "\"transformer.wte.weight\": \"model-00002-of-00005.safetensors\"")
        #expect(changed != text)
        try changed.write(toFile: moved + "/" + index, atomically: true, encoding: .utf8)
        try Self.expectRefused(moved, good: s.ckpt, sidecar: s.sidecar, file: moved + "/" + index,
                               place: "tensor 'transformer.wte.weight' in shard 'model-00002-of-00005.safetensors'")
        // A tensor stored in two shards (shard 2 rewritten by Python's safetensors with a copy of it).
        let twice = s.dir + "/twice"
        try FileManager.default.copyItem(atPath: s.ckpt, toPath: twice)
        try SafetyTest.python("""
            from safetensors.numpy import load_file, save_file
            a = load_file('model-00001-of-00005.safetensors'); b = load_file('model-00002-of-00005.safetensors')
            b['transformer.wte.weight'] = a['transformer.wte.weight']
            save_file(b, 'model-00002-of-00005.safetensors', metadata={'format': 'pt'})
            """, cwd: twice)
        try Self.expectRefused(twice, good: s.ckpt, sidecar: s.sidecar, file: twice,
                               place: "tensor 'transformer.wte.weight' is stored in several shards (model-00001-of-00005.safetensors, model-00002-of-00005.safetensors)")
    }

    // MARK: split GGUF

    @Test func everyToolRefusesAPartOfASplitGGUF() throws {
        let s = try Self.editedFolder()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        // The first of two parts, with the split.* keys llama-gguf-split writes (gguf-py's writer).
        try SafetyTest.python("""
            import numpy as np, gguf
            w = gguf.GGUFWriter('model-00001-of-00002.gguf', 'gpt2')
            w.add_uint16('split.no', 0); w.add_uint16('split.count', 2); w.add_int32('split.tensors.count', 2)
            w.add_tensor('transformer.h.1.mlp.c_proj.weight', np.ones((1024, 256), dtype=np.float32))
            w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
            """, cwd: s.dir)
        let part = s.dir + "/model-00001-of-00002.gguf"
        let runs: [(String, [String])] = [
            ("prune-inspect", [part]), ("prune-diff", [part, part]), ("prune-diff", [s.base, part]),
            ("prune-apply", [part, s.dir + "/edits.jsonl", "-o", s.dir + "/x.gguf", "--sidecar", s.dir + "/x.prune"]),
            ("prune-revert", [part, s.dir + "/single.prune", "-o", s.dir + "/y.gguf"]),
            ("prune-audit", [s.dir + "/single.prune", part]), ("prune-audit", ["--base", part, s.dir + "/single.prune"]),
            // The model-running tools too (the runtime's loader).
            ("prune-generate", [part, "The capital of"]),
            ("prune-stats", [part, s.dir + "/edits.jsonl", "--layer", "0", "-o", s.dir + "/c.safetensors"]),
        ]
        for (tool, args) in runs {
            let r = try SafetyTest.run(try SafetyTest.tool(tool), args)
            #expect(r.status == 1, "\(tool) \(args): status \(r.status)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(tool): \(r.stderr)")
            #expect(r.stderr.hasPrefix("\(tool): \(part): a split GGUF model (2 parts) is not supported"), "\(tool): \(r.stderr)")
        }
        for f in ["x.gguf", "x.prune", "y.gguf", "c.safetensors"] { #expect(!FileManager.default.fileExists(atPath: s.dir + "/" + f)) }
    }
}
