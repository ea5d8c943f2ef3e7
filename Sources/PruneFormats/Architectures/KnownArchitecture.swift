/// The model families prune reads, runs and edits. Each has its spec in its own file
/// (`Architectures/<Family>.swift`); adding a family is a case here and one file of tables.
public enum KnownArchitecture: String, Sendable, CaseIterable {
    case gpt2
    case llama
    case mistral
    case qwen2
    case qwen3
    case phi3
    case gemma2
    case gemma3

    public var spec: ArchitectureSpec {
        switch self {
        case .gpt2: return .gpt2
        case .llama: return .llama
        case .mistral: return .mistral
        case .qwen2: return .qwen2
        case .qwen3: return .qwen3
        case .phi3: return .phi3
        case .gemma2: return .gemma2
        case .gemma3: return .gemma3
        }
    }

    /// The family of an architecture name: GGUF `general.architecture`, config.json `model_type`, or
    /// one of its `architectures` class names (case-insensitive). Mistral checkpoints converted by
    /// llama.cpp say `llama` (same names, same permutation, no window in the metadata).
    public init?(name: String) {
        let n = name.lowercased()
        guard let a = Self.allCases.first(where: { a in
            a.spec.ggufNames.contains(n) || a.spec.hfNames.contains(where: { $0.lowercased() == n })
        }) else { return nil }
        self = a
    }

    /// The names prune accepts, for error messages.
    public static var acceptedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
