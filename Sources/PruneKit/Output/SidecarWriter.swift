import Foundation
import PruneFormats

/// Serialises a `Sidecar` into its safetensors container (prune-sidecar(5)). Deterministic: the same
/// sidecar always gives the same bytes.
public enum SidecarWriter {
    /// The complete sidecar file.
    public static func encode(_ sidecar: Sidecar) throws -> [UInt8] {
        try encode(sidecar, threads: ProcessInfo.processInfo.activeProcessorCount, compressionSeconds: nil)
    }

    /// `compressionSeconds` receives the time spent compressing the manifest copies.
    static func encode(_ sidecar: Sidecar, threads: Int, compressionSeconds: UnsafeMutablePointer<Double>?) throws -> [UInt8] {
        var b = SafetensorsBuilder()
        var edits: [SidecarDocument.EditDoc] = []
        for (i, e) in sidecar.edits.enumerated() {
            var key: String?
            if let f = e.facts {
                key = "edit.\(i).facts"
                try b.add(key!, dtype: .u8, shape: [f.count], bytes: f)
            }
            edits.append(.init(manifest: e.manifest, id: e.id, kind: e.kind, line: e.line, tensors: e.tensors, facts: key))
        }
        var tensors: [SidecarDocument.TensorDoc] = []
        for (i, t) in sidecar.tensors.enumerated() {
            let p = "tensor.\(i)."
            var terms: [SidecarDocument.TermDoc] = []
            for (j, term) in t.terms.enumerated() {
                switch term.delta {
                case .lowRank(let u, let v, let rank):
                    try b.add(p + "term.\(j).u", f32: u, shape: [t.rows, rank])
                    try b.add(p + "term.\(j).v", f32: v, shape: [t.cols, rank])
                    terms.append(.init(edit: term.edit, kind: "lowrank", rank: rank,
                                       u: p + "term.\(j).u", v: p + "term.\(j).v", delta: nil))
                case .dense(let d):
                    try b.add(p + "term.\(j).delta", f32: d, shape: [t.rows, t.cols])
                    terms.append(.init(edit: term.edit, kind: "dense", rank: nil, u: nil, v: nil,
                                       delta: p + "term.\(j).delta"))
                }
            }
            let r = t.restrained
            try b.add(p + "restrained.u", f32: r.u, shape: [t.rows, r.rank])
            try b.add(p + "restrained.v", f32: r.v, shape: [t.cols, r.rank])
            try b.add(p + "spectrum_before", f64: t.spectrumBefore, shape: [t.spectrumBefore.count])
            try b.add(p + "spectrum_after", f64: t.spectrumAfter, shape: [t.spectrumAfter.count])
            var kappaKey: String?
            if let k = t.kappa {
                kappaKey = p + "kappa"
                try b.add(p + "kappa", f64: k, shape: [k.count])
            }
            try b.add(p + "residual", dtype: .u8, shape: [t.residual.count], bytes: t.residual)
            var forward: SidecarDocument.ResidualDoc?
            if let f = t.forwardResidual {
                try b.add(p + "forward_residual", dtype: .u8, shape: [f.count], bytes: f)
                forward = .init(codec: t.residualCodec, length: t.residualLength, data: p + "forward_residual")
            }
            tensors.append(.init(
                name: t.name, type: t.type, shape: t.shape, rows: t.rows, cols: t.cols,
                baseSHA256: t.baseSHA256, outputSHA256: t.outputSHA256, sigmaMax: t.sigmaMax,
                sigmaBefore: t.spectrumBefore.first ?? 0, sigmaAfter: t.spectrumAfter.first ?? 0,
                componentsRestrained: t.componentsRestrained, terms: terms,
                restrained: .init(rank: r.rank, u: p + "restrained.u", v: p + "restrained.v"),
                spectrumBefore: p + "spectrum_before", spectrumAfter: p + "spectrum_after", kappa: kappaKey,
                residual: .init(codec: t.residualCodec, length: t.residualLength, data: p + "residual"),
                forwardResidual: forward))
        }
        var manifests: [SidecarDocument.ManifestDoc] = []
        let quotable = try b.entries.filter { $0.dtype == .f32 && $0.name.contains(".term.") }.map { (name: $0.name, bytes: try $0.bytes()) }
        let byName = Dictionary(quotable.map { ($0.name, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        for (m, man) in sidecar.manifests.enumerated() {
            let key = "manifest.\(m)"
            var (pieces, literals) = ManifestTemplate.make(man.bytes, parts: quotable)
            if try ManifestTemplate.rebuild(pieces, literals: literals, part: { byName[$0] ?? [] }) != man.bytes {
                (pieces, literals) = (man.bytes.isEmpty ? [] : [.literal(man.bytes.count)], man.bytes)
            }
            let t0 = clockSeconds()
            let packed: [UInt8]
            do { packed = try ZstdBuffer.compress(literals, threads: threads) } catch let e as ZstdBufferError {
                throw SidecarError.builder("manifest \(m): " + e.reason)
            }
            compressionSeconds?.pointee += clockSeconds() - t0
            try b.add(key, dtype: .u8, shape: [packed.count], bytes: packed)
            manifests.append(.init(name: man.name, sha256: man.sha256, bytes: man.bytes.count, data: key,
                                   encoding: "template", literalBytes: literals.count,
                                   pieces: pieces.map {
                                       switch $0 {
                                       case .literal(let n): return .init(literal: n, base64: nil)
                                       case .base64(let p): return .init(literal: nil, base64: p)
                                       }
                                   }))
        }
        var checkpoint: SidecarDocument.CheckpointDoc?
        if let c = sidecar.model.checkpoint {
            try b.add("checkpoint.index", dtype: .u8, shape: [c.baseIndex.count], bytes: c.baseIndex)
            checkpoint = .init(index: c.index, baseIndex: "checkpoint.index", baseIndexSHA256: SHA256Hasher.hex(c.baseIndex),
                               outputIndexSHA256: c.outputIndexSHA256,
                               shards: c.shards, files: c.files)
        }
        // The parts' hashes, in parallel (each is independent; the result does not depend on the order).
        let entries = b.entries
        let contents = try entries.map { try $0.bytes() }
        let digests = ParallelMap.map(contents.count, threads: threads) { SHA256Hasher.hex(contents[$0]) }
        var parts: [String: String] = [:]
        for (e, h) in zip(entries, digests) { parts[e.name] = h }
        let doc = SidecarDocument(
            formatVersion: Sidecar.formatVersion, toolVersion: sidecar.toolVersion,
            model: .init(format: sidecar.model.format.rawValue, baseSHA256: sidecar.model.baseSHA256,
                         outputSHA256: sidecar.model.outputSHA256, checkpoint: checkpoint),
            parameters: sidecar.parameters,
            manifests: manifests,
            edits: edits,
            tensors: tensors, parts: parts)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json: Data
        do { json = try enc.encode(doc) } catch {
            throw SidecarError.builder("cannot encode the sidecar document: \(error)")
        }
        let text = String(decoding: json, as: UTF8.self)
        b.setMetadata("format", Sidecar.formatName)
        b.setMetadata("format_version", String(Sidecar.formatVersion))
        b.setMetadata("tool_version", sidecar.toolVersion)
        b.setMetadata("prune", text)
        b.setMetadata("prune_sha256", SHA256Hasher.hex(Array(json)))
        return try b.build()
    }

    /// Writes the sidecar atomically: a temporary file in the destination folder, then rename.
    public static func write(_ sidecar: Sidecar, to path: String) throws {
        let bytes = try encode(sidecar)
        let staged = try StagedFile(bytes: bytes, destination: path)
        try staged.commit()
    }
}
