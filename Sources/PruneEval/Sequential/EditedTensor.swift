import Foundation
import PruneFormats
import PruneKit
import PruneRuntime

/// One matrix a chain edits: W₀ as the base file stores it, and where it sits in the runtime.
package struct EditedTensor {
    package var name: String
    /// The stored matrix view (TensorInfo.matrixShape), as the sidecar's terms are.
    package var rows: Int
    package var cols: Int
    package var type: TensorType
    package var w0: [Float]
    /// σ_max(W₀) as the sidecar recorded it (the restraint's threshold).
    package var sigmaMax: Double
    package var role: MatrixRole
    package var layer: Int
    /// Whether the runtime's [out, in] matrix is the transpose of the stored one (GPT-2's Conv1D).
    package var transposed: Bool

    /// Locates the sidecar's tensor in the base file and in the runtime's weights.
    ///
    /// The runtime's matrix is compared with the one the model was loaded with, not the live one:
    /// an earlier chain's arm may have installed its edited weights in its place. Every role whose
    /// stored name is the tensor's is tried (an architecture may map several to one tensor); the
    /// tensor is refused only when none holds W₀, as stored or transposed.
    package static func locate(_ record: Sidecar.Tensor, file: ModelFile, weights: ModelWeights) throws -> EditedTensor {
        guard let info = file.info(named: record.name), let shape = info.matrixShape,
              shape.rows == record.rows, shape.cols == record.cols else {
            throw EvalError.tensor(path: file.path, tensor: record.name, reason: "not in the base model as the sidecar records it")
        }
        let w0 = try file.withData(for: record.name) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
        var candidates: [String] = []
        var transposedW0: [Float]?
        for layer in 0..<weights.config.layerCount {
            for role in MatrixRole.allCases {
                guard let n = try? weights.tensorName(role, layer: layer), n == record.name else { continue }
                candidates.append("\(role.rawValue) of layer \(layer)")
                let loaded = try weights.loadedValues(role, layer: layer)
                // Orientation by the values themselves: the runtime holds [out, in].
                if loaded.rows == record.rows, loaded.cols == record.cols, loaded.values == w0 {
                    return EditedTensor(name: record.name, rows: record.rows, cols: record.cols, type: info.type, w0: w0,
                                        sigmaMax: record.sigmaMax, role: role, layer: layer, transposed: false)
                }
                if loaded.rows == record.cols, loaded.cols == record.rows {
                    if transposedW0 == nil { transposedW0 = transpose(w0, rows: record.rows, cols: record.cols) }
                    if loaded.values == transposedW0! {
                        return EditedTensor(name: record.name, rows: record.rows, cols: record.cols, type: info.type, w0: w0,
                                            sigmaMax: record.sigmaMax, role: role, layer: layer, transposed: true)
                    }
                }
            }
        }
        guard !candidates.isEmpty else {
            throw EvalError.tensor(path: file.path, tensor: record.name, reason: "not a matrix the runtime knows")
        }
        throw EvalError.tensor(path: file.path, tensor: record.name,
                               reason: "the runtime's \(candidates.joined(separator: ", ")) as loaded is not this tensor, as stored or transposed")
    }

    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = x[r * cols + c] } }
        return out
    }

    /// W₀ + the arm's restraint of `terms`, as prune-apply writes it (rounded to the stored type),
    /// with the restraint's report.
    package func edited(terms: [Sidecar.Term], configuration: RestraintConfiguration, threads: Int) throws
        -> (weights: [Float], report: RestraintReport) {
        let deltas: [Delta] = try terms.map { t in
            switch t.delta {
            case .lowRank(let u, let v, let rank):
                return .lowRank(try LowRankDelta(rows: rows, cols: cols, rank: rank, a: u, b: v, tensor: name))
            case .dense(let d):
                return .dense(try DenseDelta(rows: rows, cols: cols, values: d, tensor: name))
            }
        }
        let result = try RestraintEngine.restrain(edits: deltas, rows: rows, cols: cols, sigmaMax: sigmaMax,
                                                  configuration: configuration, tensor: name)
        var w = w0
        try result.factored.add(to: &w, threads: threads, tensor: name)
        if type != .safetensors(.f32), type != .ggml(.f32) {
            let bytes = try TensorCodec.encode(w, as: type)
            w = try bytes.withUnsafeBytes { try TensorCodec.decode($0, as: type, count: w.count) }
        }
        return (w, result.report)
    }

    /// Puts stored-orientation weights into the runtime.
    package func install(_ stored: [Float], in weights: ModelWeights) throws {
        let values = transposed ? Self.transpose(stored, rows: rows, cols: cols) : stored
        try weights.replace(role, layer: layer, with: FloatMatrix(rows: transposed ? cols : rows, cols: transposed ? rows : cols,
                                                                  values: values))
    }
}
