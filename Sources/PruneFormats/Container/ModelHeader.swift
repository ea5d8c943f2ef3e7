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

    /// The number of parts of a llama.cpp split GGUF model (`split.count` > 1), else nil.
    public var splitCount: Int? {
        guard case .gguf(let g) = self, let n = g["split.count"]?.integerValue, n > 1 else { return nil }
        return Int(clamping: n)
    }

    /// Refuses a part of a split GGUF model: editing, reverting, comparing or auditing one part
    /// alone would silently miss the tensors of the others.
    package func refuseSplit(path: String) throws {
        if let n = splitCount { throw CheckpointFolderError.splitGGUF(path: path, parts: n) }
    }

    /// Parses the header of whichever format the stream holds (detected from its first bytes).
    public static func parse(_ stream: ByteStream) throws -> ModelHeader {
        switch try ModelInput.detectFormat(stream) {
        case .safetensors: return .safetensors(try SafetensorsParser.parseHeader(stream))
        case .gguf: return .gguf(try GGUFParser.parseHeader(stream))
        }
    }
}
