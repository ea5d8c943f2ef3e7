/// The element type of a stored tensor, in the vocabulary of its container.
public enum TensorType: Sendable, Hashable, CustomStringConvertible {
    case safetensors(SafetensorsDType)
    case ggml(GGMLType)

    /// "F32", "BF16", "Q4_K", … as the container spells it.
    public var description: String {
        switch self {
        case .safetensors(let d): return d.rawValue
        case .ggml(let g): return g.description
        }
    }

    /// Bytes needed for `count` elements, nil if not a whole number of bytes/blocks or on overflow.
    public func byteCount(forElements count: Int) -> Int? {
        switch self {
        case .safetensors(let d): return d.byteCount(forElements: count)
        case .ggml(let g): return g.byteCount(forValues: count)
        }
    }
}
