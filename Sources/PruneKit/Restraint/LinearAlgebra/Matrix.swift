import Foundation
import PruneFormats

/// A dense row-major matrix of `Double`.
///
/// The restraint engine computes in float64 throughout (the reference it must match is float64
/// numpy); f32 weights are widened exactly on entry. Element (i, j) is `storage[i * cols + j]`.
/// All BLAS/LAPACK access goes through methods of this type; callers never see raw pointers.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public internal(set) var storage: [Double]

    /// A zero matrix.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative dimension")
        self.rows = rows
        self.cols = cols
        self.storage = [Double](repeating: 0, count: rows * cols)
    }

    /// A matrix over existing row-major values; `values.count` must be `rows * cols`.
    public init(rows: Int, cols: Int, values: [Double]) throws {
        guard rows >= 0, cols >= 0 else {
            throw RestraintError.invalidDimensions(tensor: "<matrix>", rows: rows, cols: cols)
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, values.count == count else {
            throw RestraintError.shapeMismatch(tensor: "<matrix>", what: "matrix values",
                                               expected: overflow ? -1 : count, actual: values.count)
        }
        self.rows = rows
        self.cols = cols
        self.storage = values
    }

    /// A matrix widened exactly from row-major f32 values.
    public init(rows: Int, cols: Int, floats: [Float]) throws {
        try self.init(rows: rows, cols: cols, values: floats.map(Double.init))
    }

    /// Internal unchecked initialiser (shape already validated by construction).
    init(rows: Int, cols: Int, unchecked values: [Double]) {
        assert(values.count == rows * cols)
        self.rows = rows
        self.cols = cols
        self.storage = values
    }

    public subscript(row: Int, col: Int) -> Double {
        get { storage[row * cols + col] }
        set { storage[row * cols + col] = newValue }
    }

    /// The identity-like matrix with ones on the main diagonal.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public func transposed() -> Matrix {
        var t = [Double](repeating: 0, count: rows * cols)
        storage.withUnsafeBufferPointer { src in
            t.withUnsafeMutableBufferPointer { dst in
                // Blocked transpose for cache friendliness.
                let block = 32
                var i0 = 0
                while i0 < rows {
                    let i1 = min(i0 + block, rows)
                    var j0 = 0
                    while j0 < cols {
                        let j1 = min(j0 + block, cols)
                        for i in i0..<i1 {
                            for j in j0..<j1 { dst[j * rows + i] = src[i * cols + j] }
                        }
                        j0 = j1
                    }
                    i0 = i1
                }
            }
        }
        return Matrix(rows: cols, cols: rows, unchecked: t)
    }

    /// Columns `range` as a new matrix.
    public func columns(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= cols)
        let w = range.count
        var out = [Double](repeating: 0, count: rows * w)
        for i in 0..<rows {
            for j in 0..<w { out[i * w + j] = storage[i * cols + range.lowerBound + j] }
        }
        return Matrix(rows: rows, cols: w, unchecked: out)
    }

    /// Rows `range` as a new matrix.
    public func rowSlice(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        return Matrix(rows: range.count, cols: cols,
                      unchecked: Array(storage[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// `[a b]`: the columns of `b` appended after those of `a` (same row count).
    public static func hconcat(_ a: Matrix, _ b: Matrix) -> Matrix {
        precondition(a.rows == b.rows, "hconcat: row counts differ")
        let w = a.cols + b.cols
        var out = [Double](repeating: 0, count: a.rows * w)
        for i in 0..<a.rows {
            for j in 0..<a.cols { out[i * w + j] = a.storage[i * a.cols + j] }
            for j in 0..<b.cols { out[i * w + a.cols + j] = b.storage[i * b.cols + j] }
        }
        return Matrix(rows: a.rows, cols: w, unchecked: out)
    }

    /// Multiplies column j by `factors[j]`.
    public func scalingColumns(by factors: [Double]) -> Matrix {
        precondition(factors.count == cols)
        var out = self
        for i in 0..<rows {
            for j in 0..<cols { out.storage[i * cols + j] *= factors[j] }
        }
        return out
    }

    public var frobeniusNorm: Double {
        // Scaled sum of squares in a fixed order (no overflow for large entries).
        var scale = 0.0
        for x in storage { scale = max(scale, abs(x)) }
        guard scale > 0, scale.isFinite else { return scale }
        var s = 0.0
        for x in storage { let y = x / scale; s += y * y }
        return scale * s.squareRoot()
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        var out = a
        for i in 0..<out.storage.count { out.storage[i] += b.storage[i] }
        return out
    }

    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        var out = a
        for i in 0..<out.storage.count { out.storage[i] -= b.storage[i] }
        return out
    }

    /// Index of the first non-finite element, if any.
    public var firstNonFiniteIndex: Int? { storage.firstIndex { !$0.isFinite } }
}
