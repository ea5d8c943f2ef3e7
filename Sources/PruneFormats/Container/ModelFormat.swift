/// The container formats prune reads and writes.
public enum ModelFormat: String, Sendable, Codable {
    case safetensors
    case gguf
}
