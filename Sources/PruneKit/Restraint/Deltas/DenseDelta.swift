import Foundation
import PruneFormats

/// A dense update ΔW (rows × cols, row-major, float64).
public struct DenseDelta: Sendable, Equatable {
    public let values: Matrix
    public var rows: Int { values.rows }
    public var cols: Int { values.cols }

    public init(_ values: Matrix, tensor: String = "<matrix>") throws {
        if let i = values.firstNonFiniteIndex { throw RestraintError.nonFinite(tensor: tensor, what: "dense delta", index: i) }
        self.values = values
    }

    /// From row-major f32 values, multiplied by `scale` in float64.
    public init(rows: Int, cols: Int, values: [Float], scale: Double = 1, tensor: String = "<matrix>") throws {
        guard rows > 0, cols > 0 else { throw RestraintError.invalidDimensions(tensor: tensor, rows: rows, cols: cols) }
        let (n, o) = rows.multipliedReportingOverflow(by: cols)
        guard !o, values.count == n else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "dense delta", expected: o ? -1 : n, actual: values.count)
        }
        guard scale.isFinite else { throw RestraintError.nonFinite(tensor: tensor, what: "delta scale", index: 0) }
        try self.init(Matrix(rows: rows, cols: cols, unchecked: values.map { Double($0) * scale }), tensor: tensor)
    }

    public func transposed() -> DenseDelta { DenseDelta(unchecked: values.transposed()) }

    init(unchecked values: Matrix) { self.values = values }
}
