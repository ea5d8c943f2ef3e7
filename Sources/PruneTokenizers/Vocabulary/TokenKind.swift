/// What a vocabulary entry is (SentencePiece / GGUF token types; Hugging Face added tokens map to
/// `.control` when special and `.userDefined` otherwise).
public enum TokenKind: Int, Sendable, CaseIterable, CustomStringConvertible {
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6

    public var description: String {
        switch self {
        case .normal: return "normal"
        case .unknown: return "unknown"
        case .control: return "control"
        case .userDefined: return "user-defined"
        case .unused: return "unused"
        case .byte: return "byte"
        }
    }
}
