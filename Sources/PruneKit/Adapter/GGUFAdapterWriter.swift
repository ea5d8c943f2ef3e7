import PruneFormats

/// A llama.cpp LoRA adapter (as convert_lora_to_gguf.py writes one and src/llama-adapter.cpp reads
/// it): `general.type = adapter`, `adapter.type = lora`, `general.architecture` of the base, and per
/// adapted weight `<name>.lora_a` (ggml ne [in, r]) and `<name>.lora_b` (ne [r, out]), F32.
///
/// llama.cpp scales each pair by alpha/rank when `adapter.lora.alpha` is non-zero and by 1 when it is
/// 0; ranks differ between tensors here, so alpha is 0 and B·A is the restrained delta itself
/// (`--lora-scaled FILE s` multiplies it by s).
enum GGUFAdapterWriter {
    static func bytes(_ adapter: ExportedAdapter) -> [UInt8] {
        var g = GGUFBuilder()
        g.set("general.architecture", .string(adapter.architecture ?? ""))
        g.set("general.type", .string("adapter"))
        g.set("general.name", .string("prune edits"))
        g.set("adapter.type", .string("lora"))
        g.set("adapter.lora.alpha", .float32(0))
        for (key, value) in AdapterMetadata.entries(adapter) { g.set(key, .string(value)) }
        for p in adapter.pairs {
            g.addF32(p.target + ".lora_a", ne: [p.inFeatures, p.rank], values: p.a)
            g.addF32(p.target + ".lora_b", ne: [p.rank, p.outFeatures], values: p.b)
        }
        return g.bytes()
    }
}
