/// A sidecar's restrained deltas as LoRA pairs, named and oriented for one adapter format; the
/// writers (`PEFTAdapterWriter`, `GGUFAdapterWriter`) turn it into files.
public struct ExportedAdapter: Sendable {
    public var format: AdapterFormat
    /// The pairs, in the sidecar's tensor order.
    public var pairs: [AdapterPair]
    /// Tensors the sidecar records whose restrained delta is zero (rank 0): nothing to adapt.
    public var skipped: [String]
    /// GGUF `general.architecture` (llama.cpp refuses an adapter of another architecture), or the
    /// architecture prune recognised; nil when unknown (PEFT only).
    public var architecture: String?
    /// GPT-2 Conv1D modules: PEFT's `fan_in_fan_out` (the weight is stored [in, out]).
    public var fanInFanOut: Bool
    /// PEFT's `base_model_name_or_path`, when the base is a Hugging Face folder.
    public var baseModel: String?
    /// The `--rank` cap, if any.
    public var rankCap: Int?
    /// What the adapter records of its origin (SHA-256 of the base model, restraint).
    public var baseSHA256: String
    public var restraint: String

    /// The largest rank of any pair.
    public var maxRank: Int { pairs.map(\.rank).max() ?? 0 }
}
