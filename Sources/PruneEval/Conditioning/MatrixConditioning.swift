import PruneKit

/// The condition number κ = σ_max/σ_min and σ_max of one matrix (a full SVD).
package struct MatrixConditioning: Sendable, Equatable {
    package var tensor: String
    package var rows: Int
    package var cols: Int
    package var sigmaMax: Double
    package var sigmaMin: Double
    package var kappa: Double { sigmaMin > 0 ? sigmaMax / sigmaMin : .infinity }

    package init(tensor: String, rows: Int, cols: Int, sigmaMax: Double, sigmaMin: Double) {
        self.tensor = tensor
        self.rows = rows
        self.cols = cols
        self.sigmaMax = sigmaMax
        self.sigmaMin = sigmaMin
    }

    /// From a rows × cols row-major matrix.
    package static func measure(tensor: String, rows: Int, cols: Int, values: [Float]) throws -> MatrixConditioning {
        let m = try Matrix(rows: rows, cols: cols, floats: values)
        let s = try BLASThreads.deterministic { try m.singularValues() }
        return MatrixConditioning(tensor: tensor, rows: rows, cols: cols, sigmaMax: s.first ?? .nan, sigmaMin: s.last ?? .nan)
    }
}
