/// The validated header of a model file of either format.
public enum ModelHeader: Sendable {
    case safetensors(SafetensorsHeader)
    case gguf(GGUFHeader)

    public var format: ModelFormat {
        switch self {
        case .safetensors: return .safetensors
        case .gguf: return .gguf
        }
    }

    /// GGUF version; nil for safetensors (which has none).
    public var version: Int? {
        if case .gguf(let g) = self { return Int(g.version) }
        return nil
    }

    /// Tensors in data order.
    public var tensors: [TensorInfo] {
        switch self {
        case .safetensors(let s): return s.tensors
        case .gguf(let g): return g.tensors
        }
    }

    /// Offset of the data section: every byte before it is header (GGUF: including the padding).
    public var dataStart: Int {
        switch self {
        case .safetensors(let s): return s.dataStart
        case .gguf(let g): return g.dataStart
        }
    }

    /// `general.architecture` of a GGUF file.
    public var architecture: String? {
        if case .gguf(let g) = self { return g.architecture }
        return nil
    }

    /// Parses the header of whichever format the stream holds (detected from its first bytes).
    public static func parse(_ stream: ByteStream) throws -> ModelHeader {
        switch try ModelInput.detectFormat(stream) {
        case .safetensors: return .safetensors(try SafetensorsParser.parseHeader(stream))
        case .gguf: return .gguf(try GGUFParser.parseHeader(stream))
        }
    }
}
