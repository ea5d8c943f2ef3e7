import Foundation
import PruneFormats

/// The per-tensor work of apply, replay and revert: decode, restrain, materialise with the fixed-order
/// kernel, encode to the stored type, and the residual that makes revert exact.
enum TensorEditor {
    struct Settings {
        var configuration: RestraintConfiguration
        var kappa: Bool
        var threads: Int
        var allowNonFinite = false
    }

    /// Refuses an edited tensor holding NaN or ±∞ (`values` are the stored values, decoded).
    static func checkFinite(_ values: [Float], base: [Float]?, info: TensorInfo, path: String) throws {
        guard let i = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw ApplyError.nonFinite(path: path, tensor: info.name, element: i, value: values[i],
                                   base: base.map { i < $0.count ? $0[i] : 0 } ?? 0)
    }

    static func matrixShape(_ info: TensorInfo, path: String) throws -> (rows: Int, cols: Int) {
        guard let m = info.matrixShape, m.rows > 0, m.cols > 0 else {
            throw ApplyError.emptyTensor(path: path, tensor: info.name)
        }
        guard TensorCodec.canDecode(info.type), TensorCodec.canEncode(info.type) else {
            throw ApplyError.unsupportedType(path: path, tensor: info.name, type: info.type.description)
        }
        return m
    }

    /// Bytes per element of plain 2- and 4-byte float types; nil for everything else.
    static func elementBytes(_ type: TensorType) -> Int? {
        switch type {
        case .safetensors(.f32), .ggml(.f32): return 4
        case .safetensors(.f16), .safetensors(.bf16), .ggml(.f16), .ggml(.bf16): return 2
        default: return nil
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, _ info: TensorInfo) throws -> [Float] {
        try TensorCodec.decode(bytes, as: info.type, count: info.elementCount)
    }

    static func delta(_ term: Sidecar.Term, rows: Int, cols: Int, tensor: String) throws -> Delta {
        switch term.delta {
        case .lowRank(let u, let v, let rank):
            return .lowRank(try LowRankDelta(rows: rows, cols: cols, rank: rank, a: u, b: v, tensor: tensor))
        case .dense(let d):
            return .dense(try DenseDelta(rows: rows, cols: cols, values: d, tensor: tensor))
        }
    }

    /// Runs `body` on W₀ as f32 values: the mapped bytes themselves for an aligned F32 tensor
    /// (no copy), else a decoded copy.
    static func withWeights<R>(_ base: UnsafeRawBufferPointer, _ info: TensorInfo,
                               _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        #if _endian(little)
        if info.type == .safetensors(.f32) || info.type == .ggml(.f32), let p = base.baseAddress,
           Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0, base.count == info.elementCount * 4 {
            return try body(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: info.elementCount))
        }
        #endif
        let w = try decode(base, info)
        return try w.withUnsafeBufferPointer { try body($0) }
    }

    /// The residual codec prune-apply writes for a stored type.
    static func residualCodec(_ type: TensorType) -> String {
        LostBits.supports(type) ? LostBits.codec : XorBlocks.codec
    }

    /// Edits W₀ (`base`, the tensor's stored bytes) with the accumulated `terms`; returns the new
    /// bytes and the sidecar record.
    ///
    /// Memory: besides the mapped input, the output bytes and (for types other than F32) W₀ decoded
    /// to f32; F32/F16/BF16 are materialised and their residual computed in one fused pass over
    /// row chunks, never holding a second copy of the tensor.
    static func apply(base: UnsafeRawBufferPointer, info: TensorInfo, terms: [Sidecar.Term],
                      settings: Settings, path: String, clock: ApplyClock? = nil) throws -> (bytes: [UInt8], record: Sidecar.Tensor) {
        let (rows, cols) = try matrixShape(info, path: path)
        let t0 = clockSeconds()
        let sigmaMax = try withWeights(base, info) {
            try SpectralNorm.estimate(weights: $0, rows: rows, cols: cols, tensor: info.name).sigmaMax
        }
        let deltas = try terms.map { try delta($0, rows: rows, cols: cols, tensor: info.name) }
        let result = try RestraintEngine.restrain(edits: deltas, rows: rows, cols: cols, sigmaMax: sigmaMax,
                                                  configuration: settings.configuration, tensor: info.name)
        let factored = result.factored
        guard factored.u.allSatisfy(\.isFinite), factored.v.allSatisfy(\.isFinite) else {
            throw ApplyError.deltaOverflow(path: path, tensor: info.name)
        }
        clock?.timings.restraint += clockSeconds() - t0
        let out: [UInt8], residual: [UInt8]
        let codec = residualCodec(info.type)
        if codec == LostBits.codec {
            let t1 = clockSeconds()
            let lb = LostBitsTiming()
            (out, residual) = try LostBits.apply(base: base, type: info.type, delta: factored, threads: settings.threads, timing: lb)
            let wall = clockSeconds() - t1 - lb.packing
            let cpu = lb.materialiseCPU + lb.residualCPU
            let share = cpu > 0 ? lb.materialiseCPU / cpu : 1
            clock?.timings.materialise += wall * share
            clock?.timings.residual += wall * (1 - share) + lb.packing
        } else {
            var w = try clock.measure(\.materialise) { () throws -> [Float] in
                var w = try decode(base, info)
                try factored.add(to: &w, threads: settings.threads, tensor: info.name)
                return w
            }
            out = try clock.measure(\.materialise) { try TensorCodec.encode(w, as: info.type) }
            residual = try clock.measure(\.residual) { () throws -> [UInt8] in
                // What revert computes: encode(decode(out) − ΔW̄).
                try out.withUnsafeBytes { o in
                    try w.withUnsafeMutableBufferPointer { try TensorCodec.decode(o, as: info.type, into: $0) }
                }
                try factored.subtract(from: &w, threads: settings.threads, tensor: info.name)
                let reconstructed = try TensorCodec.encode(w, as: info.type)
                let c = clockSeconds()
                defer { clock?.timings.compression += clockSeconds() - c; clock?.timings.residual -= clockSeconds() - c }
                return try XorBlocks.make(base: base, reconstructed: reconstructed, blockBytes: XorBlocks.blockBytes(info.type),
                                          threads: settings.threads)
            }
        }
        if !settings.allowNonFinite {
            let values = try out.withUnsafeBytes { try decode($0, info) }
            if values.contains(where: { !$0.isFinite }) {
                try checkFinite(values, base: try decode(base, info), info: info, path: path)
            }
        }
        var kappa: [Double]?
        if settings.kappa {
            var acc = DeltaAccumulator(rows: rows, cols: cols)
            for d in deltas { try acc.append(d, tensor: info.name) }
            let k = try RestraintEngine.conditionNumbers(w0: try decode(base, info), rows: rows, cols: cols, accumulated: acc,
                                                         restrained: result.delta, tensor: info.name)
            kappa = [k.kappaW0, k.kappaEdited, k.kappaRestrained]
        }
        let report = result.report
        let record = Sidecar.Tensor(
            name: info.name, type: info.type.description, shape: info.shape, rows: rows, cols: cols,
            baseSHA256: SHA256Hasher.hex(base), outputSHA256: SHA256Hasher.hex(out), terms: terms,
            sigmaMax: sigmaMax,
            restrained: .init(rank: factored.rank, u: factored.u, v: factored.v),
            spectrumBefore: report.topSigmaBefore, spectrumAfter: report.topSigmaAfter,
            componentsRestrained: report.restrainedCount, kappa: kappa,
            residual: residual, residualCodec: codec, residualLength: base.count)
        return (out, record)
    }

    static func check(_ info: TensorInfo, against record: Sidecar.Tensor, path: String, sidecar: String) throws
        -> (rows: Int, cols: Int) {
        let (rows, cols) = try matrixShape(info, path: path)
        guard info.type.description == record.type, info.shape == record.shape,
              rows == record.rows, cols == record.cols else {
            throw ApplyError.tensorMismatch(path: path, tensor: info.name, sidecar: sidecar,
                                            what: "\(info.type) \(info.shape) vs recorded \(record.type) \(record.shape)")
        }
        return (rows, cols)
    }

    /// Checks that a model carries, in the recorded format, every tensor the sidecar records, each with
    /// its recorded type and shape (replay reads the base, revert the edited model: both need this).
    static func checkHeader(_ header: ModelHeader, against sidecarFile: Sidecar, path: String, sidecar: String) throws {
        try header.refuseSplit(path: path)
        if sidecarFile.model.checkpoint != nil {
            throw CheckpointError.layoutMismatch(path: path, sidecar: sidecar,
                                                 reason: "the sidecar records a sharded checkpoint folder; give the folder")
        }
        guard header.format == sidecarFile.model.format else {
            throw ApplyError.formatMismatch(path: path, sidecar: sidecar, model: header.format,
                                            recorded: sidecarFile.model.format)
        }
        for t in sidecarFile.tensors {
            guard let info = header.tensors.first(where: { $0.name == t.name }) else {
                throw ApplyError.missingTensor(path: path, tensor: t.name, sidecar: sidecar)
            }
            _ = try check(info, against: t, path: path, sidecar: sidecar)
        }
    }

    static func factored(_ record: Sidecar.Tensor) throws -> FactoredDelta {
        try FactoredDelta(rows: record.rows, cols: record.cols, rank: record.restrained.rank,
                          u: record.restrained.u, v: record.restrained.v, tensor: record.name)
    }

    /// Replay: W₀ + the recorded restrained delta, checked against the recorded hashes.
    static func replay(base: UnsafeRawBufferPointer, info: TensorInfo, record: Sidecar.Tensor, threads: Int,
                       allowNonFinite: Bool = false, path: String, sidecar: String) throws -> [UInt8] {
        _ = try check(info, against: record, path: path, sidecar: sidecar)
        guard SHA256Hasher.hex(base) == record.baseSHA256 else {
            throw ApplyError.tensorHashMismatch(path: path, tensor: info.name, sidecar: sidecar, which: "base")
        }
        var out = try materialise(base: base, info: info, delta: try factored(record), threads: threads)
        if let forward = record.forwardResidual {
            try Residual.apply(forward, codec: record.residualCodec, length: record.residualLength, to: &out,
                               path: sidecar, tensor: info.name)
        }
        if !allowNonFinite {
            let w0 = try decode(base, info)
            try checkFinite(try out.withUnsafeBytes { try decode($0, info) }, base: w0, info: info, path: path)
        }
        guard SHA256Hasher.hex(out) == record.outputSHA256 else {
            throw ApplyError.tensorHashMismatch(path: path, tensor: info.name, sidecar: sidecar, which: "output")
        }
        return out
    }

    /// Revert: the base bytes of an edited tensor, checked against the recorded hashes.
    static func revert(edited: UnsafeRawBufferPointer, info: TensorInfo, record: Sidecar.Tensor, threads: Int,
                       path: String, sidecar: String) throws -> [UInt8] {
        _ = try check(info, against: record, path: path, sidecar: sidecar)
        guard SHA256Hasher.hex(edited) == record.outputSHA256 else {
            throw ApplyError.tensorHashMismatch(path: path, tensor: info.name, sidecar: sidecar, which: "output")
        }
        let bytes = try restore(edited: edited, info: info, record: record, threads: threads, sidecar: sidecar)
        guard SHA256Hasher.hex(bytes) == record.baseSHA256 else {
            throw ApplyError.tensorHashMismatch(path: path, tensor: info.name, sidecar: sidecar, which: "base")
        }
        return bytes
    }

    /// encode(decode(base) + ΔW̄): what apply wrote (the fused pass for 2- and 4-byte floats, the
    /// same arithmetic as `FactoredDelta.add` followed by the codec).
    static func materialise(base: UnsafeRawBufferPointer, info: TensorInfo, delta: FactoredDelta, threads: Int) throws -> [UInt8] {
        if let out = try LostBits.materialise(base: base, type: info.type, delta: delta, threads: threads) { return out }
        var w = try decode(base, info)
        try delta.add(to: &w, threads: threads, tensor: info.name)
        return try TensorCodec.encode(w, as: info.type)
    }

    /// The base bytes from the edited bytes: the restrained delta taken off, then the residual of
    /// the record's codec (format 1's zstd-diff/zstd-xor, or lost-bits / xor-blocks).
    static func restore(edited: UnsafeRawBufferPointer, info: TensorInfo, record: Sidecar.Tensor, threads: Int,
                        sidecar: String) throws -> [UInt8] {
        let delta = try factored(record)
        if record.residualCodec == LostBits.codec {
            guard record.residualLength == edited.count else {
                throw SidecarError.residual(path: sidecar, tensor: info.name,
                                            reason: "length \(record.residualLength), tensor has \(edited.count) bytes")
            }
            return try LostBits.revert(edited: edited, type: info.type, delta: delta, residual: record.residual,
                                       threads: threads, path: sidecar, tensor: info.name)
        }
        var w = try decode(edited, info)
        try delta.subtract(from: &w, threads: threads, tensor: info.name)
        var bytes = try TensorCodec.encode(w, as: info.type)
        w = []
        if record.residualCodec == XorBlocks.codec {
            try XorBlocks.apply(record.residual, length: record.residualLength, to: &bytes, path: sidecar, tensor: info.name)
        } else {
            try Residual.apply(record.residual, codec: record.residualCodec, length: record.residualLength, to: &bytes,
                               path: sidecar, tensor: info.name)
        }
        return bytes
    }
}
