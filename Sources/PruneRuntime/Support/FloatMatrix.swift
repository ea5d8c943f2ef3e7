/// A row-major matrix of f32 values: activations, captured states, weights read back.
public struct FloatMatrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var values: [Float]

    /// A zero matrix.
    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        self.values = [Float](repeating: 0, count: rows * cols)
    }

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "FloatMatrix: \(values.count) values for \(rows) × \(cols)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public subscript(row: Int, col: Int) -> Float {
        get { values[row * cols + col] }
        set { values[row * cols + col] = newValue }
    }

    /// Row `r` as an array.
    public func row(_ r: Int) -> [Float] { Array(values[r * cols ..< (r + 1) * cols]) }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> FloatMatrix {
        FloatMatrix(rows: range.count, cols: cols, values: Array(values[range.lowerBound * cols ..< range.upperBound * cols]))
    }

    /// The listed rows, in order.
    public func gathering(rows list: [Int]) -> FloatMatrix {
        var out = [Float]()
        out.reserveCapacity(list.count * cols)
        for r in list { out.append(contentsOf: values[r * cols ..< (r + 1) * cols]) }
        return FloatMatrix(rows: list.count, cols: cols, values: out)
    }
}
