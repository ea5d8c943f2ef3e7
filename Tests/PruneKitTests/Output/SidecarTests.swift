import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite struct SidecarTests {
    static func sample() -> Sidecar {
        var g = SystemRandomNumberGenerator()
        func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &g) } }
        let manifest = Array("{\"kind\":\"lowrank\",\"tensor\":\"a\",\"u\":[1,2],\"v\":[3,4,5]}\n\n{\"id\":\"x\"}\n".utf8)
        let t = Sidecar.Tensor(
            name: "blk.0.attn_q.weight", type: "F16", shape: [3, 2], rows: 2, cols: 3,
            baseSHA256: String(repeating: "a", count: 64), outputSHA256: String(repeating: "b", count: 64),
            terms: [.init(edit: 0, delta: .lowRank(u: floats(2), v: floats(3), rank: 1)),
                    .init(edit: 1, delta: .dense(floats(6)))],
            sigmaMax: 1.2345678901234567,
            restrained: .init(rank: 2, u: floats(4), v: floats(6)),
            spectrumBefore: [4, 0.25], spectrumAfter: [3.5, 0.25], componentsRestrained: 1,
            kappa: [0.5, 2], residual: [1, 2, 3, 4], residualCodec: Residual.diff16, residualLength: 12)
        return Sidecar(
            model: .init(format: .gguf, baseSHA256: String(repeating: "c", count: 64), outputSHA256: String(repeating: "d", count: 64)),
            parameters: .init(restraint: "log", alpha: M_E, schedule: "each", kappa: true),
            manifests: [.init(name: "edits.jsonl", bytes: manifest, sha256: SHA256Hasher.hex(manifest))],
            edits: [.init(manifest: 0, id: "1", kind: "lowrank", line: 1, tensors: ["blk.0.attn_q.weight"]),
                    .init(manifest: 0, id: "x", kind: "dense", line: 3, tensors: ["blk.0.attn_q.weight"])],
            tensors: [t])
    }

    @Test func roundTripsExactly() throws {
        let s = Self.sample()
        let bytes = try SidecarWriter.encode(s)
        let back = try Sidecar.parse(bytes, path: "mem")
        #expect(back == s)
        // Deterministic bytes.
        #expect(try SidecarWriter.encode(back) == bytes)
    }

    @Test func opensInPythonSafetensorsWithValidHashes() throws {
        let dir = try ApplyTestSupport.scratch("sidecar")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = Self.sample()
        try SidecarWriter.write(s, to: dir + "/edits.prune")
        #expect(Sidecar.looksLikeSidecar(path: dir + "/edits.prune"))
        let r = try ApplyTestSupport.python("apply_sidecar_dump.py", [dir + "/edits.prune"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(obj?["format"] as? String == "prune-sidecar")
        #expect((obj?["manifests"] as? [String])?.first == String(decoding: s.manifests[0].bytes, as: UTF8.self))
        let doc = obj?["doc"] as? [String: Any]
        let t0 = (doc?["tensors"] as? [[String: Any]])?.first
        // Exact through JSON: Python's float repr of the recorded value is the shortest round-trip form.
        #expect((obj?["sigma_max_repr"] as? [String])?.first == "\(1.2345678901234567)")
        #expect(t0?["components_restrained"] as? Int == 1)
        // (Foundation's JSON number parsing may be off by an ulp of a double; f32 values survive it.)
        #expect((obj?["restrained_u"] as? [String: [Double]])?["blk.0.attn_q.weight"]?.map(Float.init) == s.tensors[0].restrained.u)
    }

    @Test func detectsDamage() throws {
        var bytes = try SidecarWriter.encode(Self.sample())
        bytes[bytes.count - 2] ^= 0x40      // inside the last tensor's data
        #expect(throws: SidecarError.self) { try Sidecar.parse(bytes, path: "mem") }
        do {
            _ = try Sidecar.parse(bytes, path: "x.prune")
        } catch let e as SidecarError {
            guard case .partHashMismatch = e else { Issue.record("wrong error \(e)"); return }
            #expect(e.errorDescription?.hasPrefix("x.prune: ") == true)
        }
    }

    @Test func aManifestIsNotASidecar() throws {
        let dir = try ApplyTestSupport.scratch("detect")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"kind\":\"dense\"}\n".write(toFile: dir + "/m.jsonl", atomically: true, encoding: .utf8)
        #expect(!Sidecar.looksLikeSidecar(path: dir + "/m.jsonl"))
        #expect(throws: SidecarError.self) { try Sidecar.read(path: dir + "/m.jsonl") }
        #expect(!Sidecar.looksLikeSidecar(path: dir + "/missing"))
    }

    @Test func residualRestoresBaseExactly() throws {
        var base = [UInt8](repeating: 0, count: 4096)
        for i in base.indices { base[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        var recon = base
        recon[17] ^= 1; recon[4000] ^= 0x80
        for codec in [Residual.xor, Residual.diff16, Residual.diff32] {
            var work = recon
            let r = try base.withUnsafeBytes { try Residual.make(base: $0, reconstructed: work, codec: codec) }
            #expect(r.count < 100)
            try Residual.apply(r, codec: codec, length: work.count, to: &work, path: "p", tensor: "t")
            #expect(work == base)
            var short = [UInt8](repeating: 0, count: 10)
            #expect(throws: SidecarError.self) { try Residual.apply(r, codec: codec, length: 4096, to: &short, path: "p", tensor: "t") }
        }
    }
}
