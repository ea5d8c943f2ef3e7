/// What `prune-adapter` writes: chosen by the output name.
public enum AdapterFormat: String, Sendable, Equatable {
    /// A PEFT folder: adapter_config.json + adapter_model.safetensors (transformers, vLLM).
    case peft
    /// A llama.cpp LoRA adapter file (`llama-cli --lora`, llama-server).
    case gguf

    /// `.gguf` (any case) gives a llama.cpp adapter; anything else names a PEFT folder.
    public init(output: String) {
        self = output.lowercased().hasSuffix(".gguf") ? .gguf : .peft
    }
}
