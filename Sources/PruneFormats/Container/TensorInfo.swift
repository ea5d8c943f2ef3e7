/// One tensor of a model file, as its header describes it.
public struct TensorInfo: Sendable, Hashable {
    /// The tensor's name in this file.
    public var name: String
    public var type: TensorType
    /// The shape as stored: the header's shape for safetensors (outermost first),
    /// the ne list for GGUF (ne0 = innermost first), as gguf-dump prints it.
    public var shape: [Int]
    /// Offset of the first byte, relative to the start of the data section.
    public var offset: Int
    /// Bytes the tensor occupies in the data section.
    public var byteCount: Int

    public init(name: String, type: TensorType, shape: [Int], offset: Int, byteCount: Int) {
        self.name = name
        self.type = type
        self.shape = shape
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Product of the shape (1 for a scalar). Validated at parse time not to overflow.
    public var elementCount: Int { shape.reduce(1, *) }

    /// The tensor seen as a row-major matrix in memory order: `rows × cols`, where `cols` is the
    /// innermost (contiguous) dimension. safetensors [a, b] → a × b; GGUF ne [ne0, ne1] → ne1 × ne0.
    /// Higher-rank tensors fold their outer dimensions into rows. nil for 0-D tensors.
    public var matrixShape: (rows: Int, cols: Int)? {
        guard let first = shape.first else { return nil }
        switch type {
        case .safetensors:
            let cols = shape.last!
            return (shape.dropLast().reduce(1, *), cols)
        case .ggml:
            return (shape.dropFirst().reduce(1, *), first)
        }
    }
}
