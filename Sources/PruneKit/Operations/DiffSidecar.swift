import Foundation
import PruneFormats

/// `prune-diff A B --sidecar OUT`: a sidecar that turns A into B, for an edit made by any tool.
///
/// Per changed tensor, Δ = decode(B) − decode(A) is factored by SVD and kept as low-rank factors
/// where that is smaller than the tensor (else no factors at all); the rest is carried exactly by
/// two residuals: the forward one turns encode(decode(A) + UVᵀ) into B's bytes (replay), the
/// backward one turns encode(decode(B) − UVᵀ) into A's bytes (revert). So `prune-apply A OUT`
/// gives B and `prune-revert B OUT` gives A, byte for byte. The sidecar records no restraint
/// (`restraint none`): it describes the edit as it is.
///
/// A and B must have the same header bytes (same tensor table and metadata) and agree outside the
/// changed tensors; only float tensors the codecs can re-encode may differ.
public enum DiffSidecar {
    public struct Result: Sendable {
        /// The changed tensors, with the rank kept as factors (0: residuals only).
        public var tensors: [(name: String, rank: Int)]
        public var bytes: Int
    }

    public static func write(a pathA: String, b pathB: String, to output: String,
                             threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Result {
        try checkDestination(a: pathA, b: pathB, output: output)
        var records: [Sidecar.Tensor] = []
        var edits: [Sidecar.Edit] = []
        var lines: [String] = []
        let model: Sidecar.Model
        if CheckpointFolder.isFolder(pathA) || CheckpointFolder.isFolder(pathB) {
            model = try folders(a: pathA, b: pathB, records: &records, edits: &edits, lines: &lines, threads: threads)
        } else {
            let a = try ModelFile(path: pathA), b = try ModelFile(path: pathB)
            let (shaA, shaB) = try pair(a, b, nameB: displayName(pathB), records: &records, edits: &edits, lines: &lines,
                                        threads: threads)
            model = .init(format: a.format, baseSHA256: shaA, outputSHA256: shaB)
        }
        let manifestBytes = Array((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8)
        let sidecar = Sidecar(
            model: model,
            parameters: .init(restraint: "none", alpha: M_E, schedule: "end", kappa: false),
            manifests: [.init(name: "prune-diff " + (pathA as NSString).lastPathComponent + " "
                                  + (pathB as NSString).lastPathComponent,
                              bytes: manifestBytes, sha256: SHA256Hasher.hex(manifestBytes))],
            edits: edits, tensors: records)
        let bytes = try SidecarWriter.encode(sidecar)
        try StagedFile(bytes: bytes, destination: output).commit()
        return Result(tensors: records.map { ($0.name, $0.restrained.rank) }, bytes: bytes.count)
    }

    /// Two sharded checkpoint folders with the same shards (opened as apply and revert open them):
    /// each pair of shards as a pair of files; the sidecar records the folder as apply does (A's
    /// index, every shard's hashes, A's other files), so replay on A gives B's shards and revert of
    /// B gives A's folder.
    static func folders(a pathA: String, b pathB: String, records: inout [Sidecar.Tensor], edits: inout [Sidecar.Edit],
                        lines: inout [String], threads: Int) throws -> Sidecar.Model {
        guard CheckpointFolder.isFolder(pathA), CheckpointFolder.isFolder(pathB) else {
            throw DiffError.sidecarLayout(path: CheckpointFolder.isFolder(pathA) ? pathB : pathA,
                                          reason: "A and B must both be checkpoint folders or both single files")
        }
        let fa = try CheckpointFolder(path: pathA), fb = try CheckpointFolder(path: pathB)
        _ = try fa.headers()
        _ = try fb.headers()
        guard fa.shards.map(\.name) == fb.shards.map(\.name), fa.indexName == fb.indexName else {
            throw DiffError.sidecarLayout(path: pathB, reason: "the folders have different shards or index names")
        }
        var shards: [Sidecar.Checkpoint.Shard] = []
        for (sa, sb) in zip(fa.shards, fb.shards) {
            let a = try ModelFile(path: fa.path(of: sa)), b = try ModelFile(path: fb.path(of: sb))
            let (shaA, shaB) = try pair(a, b, nameB: fb.path(of: sb), records: &records, edits: &edits, lines: &lines,
                                        threads: threads)
            shards.append(.init(name: sa.name, baseSHA256: shaA, outputSHA256: shaB, compressed: sb.file != sb.name))
        }
        var files: [Sidecar.Checkpoint.File] = []
        for name in fa.otherFiles {
            let data = FileManager.default.contents(atPath: CheckpointFolder.join(fa.path, name)).map { [UInt8]($0) } ?? []
            files.append(.init(name: name, sha256: SHA256Hasher.hex(data), bytes: data.count))
        }
        let checkpoint = Sidecar.Checkpoint(index: fa.indexName, baseIndex: fa.indexBytes,
                                            outputIndexSHA256: SHA256Hasher.hex(fb.indexBytes), shards: shards, files: files)
        return .init(format: .safetensors, baseSHA256: Sidecar.Checkpoint.digest(shards.map { ($0.name, $0.baseSHA256) }),
                     outputSHA256: Sidecar.Checkpoint.digest(shards.map { ($0.name, $0.outputSHA256) }), checkpoint: checkpoint)
    }

    /// One pair of model files: appends a record, an edit and a manifest line per changed tensor;
    /// returns both files' SHA-256.
    static func pair(_ a: ModelFile, _ b: ModelFile, nameB: String, records: inout [Sidecar.Tensor], edits: inout [Sidecar.Edit],
                     lines: inout [String], threads: Int) throws -> (String, String) {
        guard a.format == b.format else {
            throw DiffError.sidecarLayout(path: nameB, reason: "A is \(a.format.rawValue), B is \(b.format.rawValue)")
        }
        guard a.headerBytes == b.headerBytes else {
            throw DiffError.sidecarLayout(path: nameB, reason: "the headers differ (tensor table or metadata)")
        }
        let (shaA, shaB, gapsEqual, sameLength) = a.withAllBytes { ra in
            b.withAllBytes { rb in
                (SHA256Hasher.hex(ra), SHA256Hasher.hex(rb), gapsAgree(a.header, ra, rb), ra.count == rb.count)
            }
        }
        guard sameLength, gapsEqual else {
            throw DiffError.sidecarLayout(path: nameB, reason: "bytes outside the tensors differ (padding or trailing data)")
        }
        for info in a.tensors {
            let changed = try a.withData(for: info.name) { ra in try b.withData(for: info.name) { rb in !ra.elementsEqual(rb) } }
            guard changed else { continue }
            let record = try a.withData(for: info.name) { ra in
                try b.withData(for: info.name) { rb in
                    try tensorRecord(info, base: ra, output: rb, edit: edits.count, threads: threads, pathB: nameB)
                }
            }
            edits.append(Sidecar.Edit(manifest: 0, id: "diff:" + info.name, kind: record.restrained.rank > 0 ? "lowrank" : "dense",
                                      line: edits.count + 1, tensors: [info.name]))
            let line = JSONNode.object([
                JSONNodeMember(key: "id", value: .string("diff:" + info.name)),
                JSONNodeMember(key: "kind", value: .string("diff")),
                JSONNodeMember(key: "tensor", value: .string(info.name)),
                JSONNodeMember(key: "rank", value: .int(record.restrained.rank)),
                JSONNodeMember(key: "base_sha256", value: .string(record.baseSHA256)),
                JSONNodeMember(key: "output_sha256", value: .string(record.outputSHA256)),
            ])
            lines.append(line.serialized())
            records.append(record)
        }
        return (shaA, shaB)
    }

    /// The sidecar is neither A nor B, and its folder accepts a new file (checked before any work).
    public static func checkDestination(a pathA: String, b pathB: String, output: String) throws {
        for p in [pathA, pathB] where RunPaths.same(p, output) {
            throw DiffError.sidecarIsInput(path: output)
        }
        try RunPaths.checkWritable(output, what: "the sidecar (--sidecar)")
    }

    /// Whether every byte of the data section outside the tensors is the same in both files.
    static func gapsAgree(_ header: ModelHeader, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var at = header.dataStart
        for t in header.tensors.sorted(by: { $0.offset < $1.offset }) {
            let start = header.dataStart + t.offset
            if start > at, !a[at..<start].elementsEqual(b[at..<start]) { return false }
            at = max(at, start + t.byteCount)
        }
        return a[at...].elementsEqual(b[at...])
    }

    static func tensorRecord(_ info: TensorInfo, base: UnsafeRawBufferPointer, output: UnsafeRawBufferPointer,
                             edit: Int, threads: Int, pathB: String) throws -> Sidecar.Tensor {
        guard let (rows, cols) = info.matrixShape, rows > 0, cols > 0,
              TensorCodec.canDecode(info.type), TensorCodec.canEncode(info.type) else {
            throw DiffError.sidecarLayout(path: pathB, reason: "tensor '\(info.name)' of type \(info.type) differs and cannot be re-encoded")
        }
        let va = try TensorCodec.decode(base, as: info.type, count: info.elementCount)
        let vb = try TensorCodec.decode(output, as: info.type, count: info.elementCount)
        var delta = [Float](repeating: 0, count: va.count)
        for i in 0..<va.count {
            let d = vb[i] - va[i]
            guard d.isFinite else {
                throw DiffError.sidecarLayout(path: pathB, reason: "tensor '\(info.name)' has non-finite values (element \(i))")
            }
            delta[i] = d
        }
        let u = DiffSpectrumCalculator.unitRoundoff(info.type)
        let floor = DiffSpectrumCalculator.noiseFloor(values: vb, rows: rows, cols: cols, unitRoundoff: u)
        // Factors only where they are smaller than the tensor; otherwise one component (the sidecar
        // container has no empty tensors) and the residuals carry the rest.
        // On one BLAS thread: the factors go into the sidecar, whose bytes must not depend on
        // OpenBLAS's (process-global) thread count.
        let svd = try BLASThreads.deterministic { try decompose(delta, rows: rows, cols: cols) }
        let tol = max(NumericalRank.tolerance(singularValues: svd.s, rows: rows, cols: cols,
                                              epsilon: DiffSpectrumCalculator.float32Epsilon), floor)
        var r = max(1, min(256, svd.s.reduce(0) { $0 + ($1 > tol ? 1 : 0) }))
        let (factorBytes, o) = r.multipliedReportingOverflow(by: (rows + cols) * 4)
        if o || factorBytes >= info.byteCount { r = 1 }
        let factored = try factors(svd, rank: r, tensor: info.name)
        let sigmas = Array(svd.s.prefix(r))
        // What replay computes, and the forward residual that makes it B.
        var w = va
        try factored.add(to: &w, threads: threads, tensor: info.name)
        let replayed = try TensorCodec.encode(w, as: info.type)
        let codec = Residual.codec(elementBytes: TensorEditor.elementBytes(info.type))
        let outBytes = Array(output)
        let forward: [UInt8]? = replayed == outBytes ? nil
            : try Residual.make(base: output, reconstructed: replayed, codec: codec, threads: threads)
        // What revert computes, and the backward residual that makes it A.
        var back = vb
        try factored.subtract(from: &back, threads: threads, tensor: info.name)
        let reverted = try TensorCodec.encode(back, as: info.type)
        let residual = try Residual.make(base: base, reconstructed: reverted, codec: codec, threads: threads)
        let sigmaMax = try RestraintEngine.sigmaMax(weights: va, rows: rows, cols: cols, tensor: info.name).sigmaMax
        var record = Sidecar.Tensor(
            name: info.name, type: info.type.description, shape: info.shape, rows: rows, cols: cols,
            baseSHA256: SHA256Hasher.hex(base), outputSHA256: SHA256Hasher.hex(output),
            terms: factored.rank > 0 ? [Sidecar.Term(edit: edit, delta: .lowRank(u: factored.u, v: factored.v, rank: factored.rank))] : [],
            sigmaMax: sigmaMax, restrained: .init(rank: factored.rank, u: factored.u, v: factored.v),
            spectrumBefore: sigmas, spectrumAfter: sigmas, componentsRestrained: 0, kappa: nil,
            residual: residual, residualCodec: codec, residualLength: base.count)
        record.forwardResidual = forward
        return record
    }

    /// The leading singular triplets of Δ (all of them up to 1024 wide, else the 264 a randomized
    /// range finder with one power iteration captures).
    static func decompose(_ delta: [Float], rows: Int, cols: Int) throws -> (u: Matrix, s: [Double], vt: Matrix) {
        let d = try Matrix(rows: rows, cols: cols, floats: delta)
        if min(rows, cols) <= DiffSpectrumCalculator.denseLimit {
            let svd = try d.svd(.thin)
            return (svd.u, svd.s, svd.vt)
        }
        let l = min(264, min(rows, cols))
        var rng = SplitMix64(seed: 0x5052_554E_4544_4946)
        var omega = Matrix(rows: cols, cols: l)
        for i in 0..<omega.storage.count { omega.storage[i] = rng.nextSigned() }
        var y = try Matrix.gemm(d, omega).qr().q
        y = Matrix.gemm(d, Matrix.gemm(d, transposeA: true, y))
        let q = try y.qr().q
        let svd = try Matrix.gemm(q, transposeA: true, d).svd(.thin)
        return (Matrix.gemm(q, svd.u), svd.s, svd.vt)
    }

    /// The first `rank` triplets as f32 factors U·Σ (rows × rank) and V (cols × rank).
    static func factors(_ svd: (u: Matrix, s: [Double], vt: Matrix), rank r: Int, tensor: String) throws -> FactoredDelta {
        let rows = svd.u.rows, cols = svd.vt.cols
        var fu = [Float](repeating: 0, count: rows * r), fv = [Float](repeating: 0, count: cols * r)
        for i in 0..<rows { for k in 0..<r { fu[i * r + k] = Float(svd.u[i, k] * svd.s[k]) } }
        for j in 0..<cols { for k in 0..<r { fv[j * r + k] = Float(svd.vt[k, j]) } }
        return try FactoredDelta(rows: rows, cols: cols, rank: r, u: fu, v: fv, tensor: tensor)
    }
}
