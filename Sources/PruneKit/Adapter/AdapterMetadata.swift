import PruneFormats

/// What both adapter formats record of an exported adapter besides the factors (string values:
/// safetensors metadata holds only strings): the scale of the applied delta (1: each engine's
/// alpha/rank rule applied to B·A gives ΔW̄), the alpha written, the ranks, the `--rank` cap and the origin.
enum AdapterMetadata {
    static func entries(_ adapter: ExportedAdapter) -> [(String, String)] {
        var out: [(String, String)] = [
            ("prune.version", PruneVersion.string),
            ("prune.adapter.scale", "1"),
            ("prune.adapter.rank_max", String(adapter.maxRank)),
            ("prune.adapter.lora_alpha", String(adapter.maxRank)),
            ("prune.adapter.ranks", JSONNode.object(adapter.pairs.map { JSONNodeMember(key: $0.target, value: .int($0.rank)) }).serialized()),
            ("prune.base_sha256", adapter.baseSHA256),
            ("prune.restraint", adapter.restraint),
        ]
        if let cap = adapter.rankCap { out.append(("prune.adapter.rank_cap", String(cap))) }
        return out
    }
}
