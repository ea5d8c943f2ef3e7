import PruneFormats

/// A llama.cpp LoRA adapter (as convert_lora_to_gguf.py writes one and src/llama-adapter.cpp reads
/// it): `general.type = adapter`, `adapter.type = lora`, `general.architecture` of the base, and per
/// adapted weight `<name>.lora_a` (ggml ne [in, r]) and `<name>.lora_b` (ne [r, out]), F32.
///
/// llama.cpp scales each pair by alpha/rank (rank = ne[0] of lora_b; `llama_adapter_lora_weight::get_scale`
/// in src/llama-adapter.h, and by 1 only when alpha is 0). One alpha serves every tensor, so alpha is the
/// largest rank R: a pair of that rank has factor 1 and B·A = ΔW̄; a pair of rank r < R holds (r/R)·ΔW̄
/// (`AdapterPair.folded`, folded into the factors by `AdapterExport.build`), which llama.cpp's R/r turns
/// into ΔW̄. `prune.adapter.scale` = 1 says the applied delta is ΔW̄ itself (`--lora-scaled FILE s`
/// multiplies it by s); `prune.adapter.ranks` gives each tensor's rank.
enum GGUFAdapterWriter {
    static func bytes(_ adapter: ExportedAdapter) -> [UInt8] {
        var g = GGUFBuilder()
        g.set("general.architecture", .string(adapter.architecture ?? ""))
        g.set("general.type", .string("adapter"))
        g.set("general.name", .string("prune edits"))
        g.set("adapter.type", .string("lora"))
        g.set("adapter.lora.alpha", .float32(Float(adapter.maxRank)))
        for (key, value) in AdapterMetadata.entries(adapter) { g.set(key, .string(value)) }
        for p in adapter.pairs {
            g.addF32(p.target + ".lora_a", ne: [p.inFeatures, p.rank], values: p.a)
            g.addF32(p.target + ".lora_b", ne: [p.rank, p.outFeatures], values: p.b)
        }
        return g.bytes()
    }
}
