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
        /// A fact to write (`rome`, `memit`, `alphaedit`, or a CounterFact record): the line as JSON,
        /// interpreted by the fact engine (`FactEditProvider`), which computes its deltas from the model.
        case fact(method: String, json: JSONNode)
    }

    /// The manifest kinds whose deltas are computed from the model, in the order messages list them.
    public static let factKindNames = ["rome", "memit", "alphaedit"]
    public static let factKinds = Set(factKindNames)

    /// "lowrank", "dense", "lora", or the fact method, as the manifest spells it.
    public var kindName: String {
        switch kind {
        case .lowRank: return "lowrank"
        case .dense: return "dense"
        case .lora: return "lora"
        case .fact(let method, _): return method
        }
    }
}
