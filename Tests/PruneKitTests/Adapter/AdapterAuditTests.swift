import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// prune-audit SIDECAR ADAPTER: the adapter, as its engine applies it, must be the sidecar's restrained
/// deltas. Good adapters of both formats pass; a tampered factor, a dropped pair, an extra pair, an adapter
/// of another edit set and one of another base fail, each named.
@Suite struct AdapterAuditTests {
    /// A llama-tiny F32 GGUF sidecar of three edits (ranks 1, 2, 1: the llama.cpp adapter folds r/R into two
    /// pairs) and its adapter; the model path and the sidecar's.
    static func llamaCase(_ dir: String, seed: String = "21", tensors: String = "blk.0.attn_q.weight,blk.1.attn_k.weight,blk.1.ffn_gate.weight",
                          model rel: String = "llama-tiny/model-f32.gguf", stem: String = "edits") throws -> String {
        let model = try TestEnvironment.fixture(rel)
        try TestProcess.python("apply_make_manifest.py", [model, dir + "/\(stem).jsonl", seed, tensors])
        _ = try Apply.run(ApplyRequest(model: model, manifest: dir + "/\(stem).jsonl", output: .file(dir + "/\(stem).out"),
                                       sidecar: dir + "/\(stem).prune", options: AdapterExportTests.options()))
        return dir + "/\(stem).prune"
    }

    /// Multiplies the largest-magnitude element of an F32 tensor of the file by 1 + 1e-3, in place.
    static func tamper(_ path: String, tensor: String) throws {
        let file = try ModelFile(path: path)
        let info = try #require(file.info(named: tensor))
        let values = try file.withData(for: tensor) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
        let i = try #require(values.indices.max(by: { abs(values[$0]) < abs(values[$1]) }))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let at = file.header.dataStart + info.offset + 4 * i
        withUnsafeBytes(of: (values[i] * 1.001).bitPattern.littleEndian) { for k in 0..<4 { bytes[at + k] = $0[k] } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: ["a.gguf", "peft"]) func goodAdapterPasses(_ out: String) throws {
        let dir = try TestEnvironment.tempDir("adapter-audit-good")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = try Self.llamaCase(dir)
        let model = try TestEnvironment.fixture("llama-tiny/model-f32.gguf")
        // The PEFT adapter of a GGUF sidecar needs the base's head count (q/k rows); so does its audit.
        _ = try AdapterExport.run(AdapterRequest(sidecar: sidecar, output: dir + "/" + out, base: model))
        let report = try SidecarAudit.run(sidecar: sidecar, model: dir + "/" + out, base: model)
        let a = try #require(report.adapter)
        #expect(a.format == (out == "peft" ? .peft : .gguf))
        #expect(a.pairs.count == 3 && a.pairs.allSatisfy { $0.state == .ok }, "\(a.pairs.map { "\($0.target) \($0.state) \($0.problem ?? "")" })")
        if out == "a.gguf" {
            // llama.cpp's alpha/rank: 2/1 for the rank-1 pairs, 2/2 for the rank-2 one.
            let scales = Dictionary(uniqueKeysWithValues: a.pairs.map { ($0.target, $0.scale) })
            #expect(scales == ["blk.0.attn_q.weight": 2, "blk.1.attn_k.weight": 1, "blk.1.ffn_gate.weight": 2], "\(scales)")
        }
        #expect(report.problems.isEmpty && report.sound, "\(report.problems)")
        #expect(report.verified.contains { $0.hasPrefix("adapter: each of its 3 pairs") })
        #expect(report.base == nil, "with an adapter, --base names the tensors and is not replayed")

        let cli = try TestProcess.run(try TestEnvironment.executable("prune-audit"), [sidecar, dir + "/" + out, "--base", model])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdoutText.contains("adapter: \(dir)/\(out) (\(out == "peft" ? "PEFT" : "llama.cpp") adapter): 3 pairs"), "\(cli.stdoutText)")
        // Without --base, the PEFT adapter's q/k rows cannot be placed: the error says to give it.
        if out == "peft" {
            let bare = try TestProcess.run(try TestEnvironment.executable("prune-audit"), [sidecar, dir + "/peft"])
            #expect(bare.status == 1 && bare.stderr.contains("give --base MODEL") && bare.stderr.contains("blk.0.attn_q.weight"), "\(bare.stderr)")
        }
    }

    /// One factor element changed by 1e-3 of itself (far above f32 rounding, far below what shows in any
    /// summary): the pair is MISMATCH, exit 1, the message names the adapter and the tensor.
    @Test(arguments: [("a.gguf", "blk.1.attn_k.weight.lora_b", "blk.1.attn_k.weight"),
                      ("peft", "base_model.model.model.layers.1.mlp.gate_proj.lora_A.weight", "model.layers.1.mlp.gate_proj")])
    func tamperedFactorFails(_ c: (String, String, String)) throws {
        let dir = try TestEnvironment.tempDir("adapter-audit-tamper")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = try Self.llamaCase(dir)
        let model = try TestEnvironment.fixture("llama-tiny/model-f32.gguf")
        _ = try AdapterExport.run(AdapterRequest(sidecar: sidecar, output: dir + "/" + c.0, base: model))
        try Self.tamper(c.0 == "peft" ? dir + "/peft/adapter_model.safetensors" : dir + "/" + c.0, tensor: c.1)
        let report = try SidecarAudit.run(sidecar: sidecar, model: dir + "/" + c.0, base: model)
        let a = try #require(report.adapter)
        #expect(a.pairs.filter { $0.state != .ok }.map(\.target) == [c.2])
        #expect(a.pairs.first { $0.target == c.2 }?.state == .mismatch)
        let cli = try TestProcess.run(try TestEnvironment.executable("prune-audit"), [sidecar, dir + "/" + c.0, "--base", model])
        #expect(cli.status == 1)
        #expect(cli.stderr.hasPrefix("prune-audit: \(sidecar): \(dir)/\(c.0): the delta the engine applies differs")
                && cli.stderr.contains("(tensor \(c.2))") && cli.stderr.split(separator: "\n").count == 1, "\(cli.stderr)")
        #expect(cli.stdoutText.contains("MISMATCH"))
    }

    /// A pair dropped from the adapter (missing), and an adapter of another edit set: other values on one
    /// shared tensor (mismatch), a tensor the sidecar lacks (extra) and one it has (missing).
    @Test func droppedPairAndAnotherEditSet() throws {
        let dir = try TestEnvironment.tempDir("adapter-audit-sets")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = try Self.llamaCase(dir)
        // Dropped: the adapter of the sidecar without its ffn_gate pair, as the writer would write it.
        var adapter = try AdapterExport.build(sidecar: try Sidecar.read(path: sidecar), sidecarPath: sidecar, format: .gguf, base: nil, rank: nil, family: .llama)
        adapter.pairs.removeAll { $0.target == "blk.1.ffn_gate.weight" }
        try Data(GGUFAdapterWriter.bytes(adapter)).write(to: URL(fileURLWithPath: dir + "/dropped.gguf"))
        let dropped = try #require(try SidecarAudit.run(sidecar: sidecar, model: dir + "/dropped.gguf").adapter)
        let droppedStates = Dictionary(uniqueKeysWithValues: dropped.pairs.map { ($0.target, $0.state) })
        #expect(droppedStates == ["blk.0.attn_q.weight": .ok, "blk.1.attn_k.weight": .ok, "blk.1.ffn_gate.weight": .missing], "\(droppedStates)")
        let cli = try TestProcess.run(try TestEnvironment.executable("prune-audit"), [sidecar, dir + "/dropped.gguf"])
        #expect(cli.status == 1 && cli.stderr.contains("the sidecar's tensor blk.1.ffn_gate.weight has no pair in the adapter (tensor blk.1.ffn_gate.weight)"), "\(cli.stderr)")

        // Another edit set on the same base: blk.0.attn_q with other values, blk.0.attn_v instead of the others.
        let other = try Self.llamaCase(dir, seed: "22", tensors: "blk.0.attn_q.weight,blk.0.attn_v.weight", stem: "other")
        _ = try AdapterExport.run(AdapterRequest(sidecar: other, output: dir + "/other.gguf",
                                                 base: try TestEnvironment.fixture("llama-tiny/model-f32.gguf")))
        let a = try #require(try SidecarAudit.run(sidecar: sidecar, model: dir + "/other.gguf").adapter)
        let states = Dictionary(uniqueKeysWithValues: a.pairs.map { ($0.target, $0.state) })
        #expect(states == ["blk.0.attn_q.weight": .mismatch, "blk.1.attn_k.weight": .missing, "blk.1.ffn_gate.weight": .missing,
                           "blk.0.attn_v.weight": .extra], "\(states)")
        #expect(a.recordedBase == a.sidecarBase)
    }

    /// An adapter made for another base (the same edits on the Q8_0 file): refused by the base hash it
    /// records, and a pair of another shape (gpt2's) is named as such.
    @Test func adapterOfAnotherBase() throws {
        let dir = try TestEnvironment.tempDir("adapter-audit-base")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = try Self.llamaCase(dir)
        let q8 = try Self.llamaCase(dir, model: "llama-tiny/model-q8_0.gguf", stem: "q8")
        _ = try AdapterExport.run(AdapterRequest(sidecar: q8, output: dir + "/q8.gguf",
                                                 base: try TestEnvironment.fixture("llama-tiny/model-q8_0.gguf")))
        let report = try SidecarAudit.run(sidecar: sidecar, model: dir + "/q8.gguf")
        let a = try #require(report.adapter)
        #expect(a.recordedBase != a.sidecarBase)
        #expect(report.problems.first == "\(dir)/q8.gguf: the adapter was made for another base (prune.base_sha256 \(a.recordedBase ?? "")," +
                " the sidecar's base is \(a.sidecarBase))", "\(report.problems)")

        // A pair of the right name and the wrong shape: the sidecar's tensor as a 4x4 pair.
        var adapter = try AdapterExport.build(sidecar: try Sidecar.read(path: sidecar), sidecarPath: sidecar, format: .gguf, base: nil, rank: nil, family: .llama)
        adapter.pairs[0] = AdapterPair(sidecarTensor: adapter.pairs[0].sidecarTensor, target: adapter.pairs[0].target, outFeatures: 4, inFeatures: 4,
                                       a: [Float](repeating: 1, count: 4), b: [Float](repeating: 1, count: 4), singularValues: [1],
                                       fullRank: 1, residualNorm: 0, deltaNorm: 1, leavesForwardResidual: false)
        try Data(GGUFAdapterWriter.bytes(adapter)).write(to: URL(fileURLWithPath: dir + "/shape.gguf"))
        let shaped = try #require(try SidecarAudit.run(sidecar: sidecar, model: dir + "/shape.gguf").adapter)
        #expect(shaped.pairs[0].state == .shape && shaped.pairs[0].problem?.contains("an adapter of another base") == true)
    }

    /// A folder with adapter_config.json that is no adapter: one line naming the file.
    @Test func brokenAdapterIsAnError() throws {
        let dir = try TestEnvironment.tempDir("adapter-audit-broken")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = try Self.llamaCase(dir)
        try FileManager.default.createDirectory(atPath: dir + "/peft", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/peft/adapter_config.json", contents: Data("{\"r\": 0}".utf8))
        let cli = try TestProcess.run(try TestEnvironment.executable("prune-audit"), [sidecar, dir + "/peft"])
        #expect(cli.status == 1 && cli.stderr == "prune-audit: \(dir)/peft: not a LoRA adapter prune-audit can check: adapter_config.json: \"r\" must be a positive integer\n", "\(cli.stderr)")
    }
}
