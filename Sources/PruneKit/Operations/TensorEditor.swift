import Foundation
import PruneFormats

/// The per-tensor work of apply, replay and revert: decode, restrain, materialise with the fixed-order
/// kernel, encode to the stored type, and the residual that makes revert exact.
enum TensorEditor {
    struct Settings {
        var configuration: RestraintConfiguration
        var kappa: Bool
        var threads: Int
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

    /// Edits W₀ (`base`, the tensor's stored bytes) with the accumulated `terms`; returns the new
    /// bytes and the sidecar record.
    static func apply(base: UnsafeRawBufferPointer, info: TensorInfo, terms: [Sidecar.Term],
                      settings: Settings, path: String) throws -> (bytes: [UInt8], record: Sidecar.Tensor) {
        let (rows, cols) = try matrixShape(info, path: path)
        let w0 = try decode(base, info)
        let sigmaMax = try RestraintEngine.sigmaMax(weights: w0, rows: rows, cols: cols, tensor: info.name).sigmaMax
        let deltas = try terms.map { try delta($0, rows: rows, cols: cols, tensor: info.name) }
        let result = try RestraintEngine.restrain(edits: deltas, rows: rows, cols: cols, sigmaMax: sigmaMax,
                                                  configuration: settings.configuration, tensor: info.name)
        let factored = result.factored
        var w = w0
        try factored.add(to: &w, threads: settings.threads, tensor: info.name)
        let out = try TensorCodec.encode(w, as: info.type)
        // What revert computes without the residual.
        var back: [Float]
        if info.type == .safetensors(.f32) || info.type == .ggml(.f32) {
            back = w
        } else {
            back = try out.withUnsafeBytes { try decode($0, info) }
        }
        try factored.subtract(from: &back, threads: settings.threads, tensor: info.name)
        let reconstructed = try TensorCodec.encode(back, as: info.type)
        let codec = Residual.codec(elementBytes: elementBytes(info.type))
        let residual = try Residual.make(base: base, reconstructed: reconstructed, codec: codec)
        var kappa: [Double]?
        if settings.kappa {
            var acc = DeltaAccumulator(rows: rows, cols: cols)
            for d in deltas { try acc.append(d, tensor: info.name) }
            let k = try RestraintEngine.conditionNumbers(w0: w0, rows: rows, cols: cols, accumulated: acc,
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
                       path: String, sidecar: String) throws -> [UInt8] {
        _ = try check(info, against: record, path: path, sidecar: sidecar)
        guard SHA256Hasher.hex(base) == record.baseSHA256 else {
            throw ApplyError.tensorHashMismatch(path: path, tensor: info.name, sidecar: sidecar, which: "base")
        }
        var w = try decode(base, info)
        try factored(record).add(to: &w, threads: threads, tensor: info.name)
        var out = try TensorCodec.encode(w, as: info.type)
        if let forward = record.forwardResidual {
            try Residual.apply(forward, codec: record.residualCodec, length: record.residualLength, to: &out,
                               path: sidecar, tensor: info.name)
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
        var w = try decode(edited, info)
        try factored(record).subtract(from: &w, threads: threads, tensor: info.name)
        var bytes = try TensorCodec.encode(w, as: info.type)
        try Residual.apply(record.residual, codec: record.residualCodec, length: record.residualLength, to: &bytes,
                           path: sidecar, tensor: info.name)
        guard SHA256Hasher.hex(bytes) == record.baseSHA256 else {
            throw ApplyError.tensorHashMismatch(path: path, tensor: info.name, sidecar: sidecar, which: "base")
        }
        return bytes
    }
}
