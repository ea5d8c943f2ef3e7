import PruneFormats
/// A matrix value of a manifest, decoded to f32: a vector (`shape == [n]`) or a row-major matrix
/// (`shape == [rows, cols]`). Values are all finite.
public struct EditMatrix: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// Rows when read as a matrix whose columns are the factor rank: a vector [n] is n × 1.
    var rowCount: Int { shape[0] }
    var columnCount: Int { shape.count == 2 ? shape[1] : 1 }
    var isVector: Bool { shape.count == 1 }

    /// "[3, 4]" for messages.
    var shapeText: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// The transpose of a 2-D matrix (a vector is returned unchanged).
    func transposed() -> EditMatrix {
        guard shape.count == 2 else { return self }
        let r = shape[0], c = shape[1]
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r { for j in 0..<c { dst[j * r + i] = src[i * c + j] } }
            }
        }
        return EditMatrix(shape: [c, r], values: out)
    }
}

/// Converts an IEEE half-precision bit pattern to Float (exact), with the codec's conversion.
func halfToFloat(_ h: UInt16) -> Float { HalfFloat.toFloat(h) }
