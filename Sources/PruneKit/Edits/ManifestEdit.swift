import PruneFormats
/// One edit of a manifest as written (values decoded, adapters read), before it is placed on a model.
public struct ManifestEdit: Sendable {
    /// The edit's `"id"`, or its line number when it has none.
    public var id: String
    /// 1-based physical line of the manifest.
    public var line: Int
    public var kind: Kind

    public enum Kind: Sendable {
        /// ΔW = scale · u vᵀ in the Hugging Face orientation of `tensor`.
        case lowRank(tensor: String, u: EditMatrix, v: EditMatrix, scale: Double)
        /// ΔW = scale · delta.
        case dense(tensor: String, delta: EditMatrix, scale: Double)
        /// The deltas of a PEFT LoRA adapter, times `scale`.
        case lora(adapter: LoRAAdapter, scale: Double)
    }

    /// "lowrank", "dense" or "lora", as the manifest spells it.
    public var kindName: String {
        switch kind {
        case .lowRank: return "lowrank"
        case .dense: return "dense"
        case .lora: return "lora"
        }
    }
}
