import PruneFormats

/// A PEFT LoRA folder: `adapter_config.json` and `adapter_model.safetensors` with
/// `base_model.model.<module>.lora_A.weight` (r × in) and `.lora_B.weight` (out × r), as PEFT's
/// save_pretrained writes them; transformers + PEFT load it with `PeftModel.from_pretrained`.
///
/// Scale 1 everywhere: r and lora_alpha are the largest rank, and a module of a smaller rank gets
/// its rank in both rank_pattern and alpha_pattern (PEFT's scaling is alpha/r per module). GPT-2's
/// Conv1D modules take `fan_in_fan_out` (PEFT then adds (B·A)ᵀ to the [in, out] weight); A and B
/// keep the layer's [r, in] and [out, r] shapes either way.
enum PEFTAdapterWriter {
    static let configName = "adapter_config.json"
    static let weightsName = "adapter_model.safetensors"

    static func config(_ adapter: ExportedAdapter) -> [UInt8] {
        let r = adapter.maxRank
        let pattern = adapter.pairs.filter { $0.rank != r }
        let patternNode = JSONNode.object(pattern.map { JSONNodeMember(key: $0.target, value: .int($0.rank)) })
        let node = JSONNode.object([
            JSONNodeMember(key: "peft_type", value: .string("LORA")),
            JSONNodeMember(key: "task_type", value: .string("CAUSAL_LM")),
            JSONNodeMember(key: "base_model_name_or_path", value: adapter.baseModel.map { JSONNode.string($0) } ?? JSONNode.null),
            JSONNodeMember(key: "r", value: .int(r)),
            JSONNodeMember(key: "lora_alpha", value: .int(r)),
            JSONNodeMember(key: "rank_pattern", value: patternNode),
            JSONNodeMember(key: "alpha_pattern", value: patternNode),
            JSONNodeMember(key: "target_modules", value: .array(adapter.pairs.map { .string($0.target) })),
            JSONNodeMember(key: "fan_in_fan_out", value: .bool(adapter.fanInFanOut)),
            JSONNodeMember(key: "lora_dropout", value: .int(0)),
            JSONNodeMember(key: "bias", value: .string("none")),
            JSONNodeMember(key: "use_rslora", value: .bool(false)),
            JSONNodeMember(key: "use_dora", value: .bool(false)),
            JSONNodeMember(key: "modules_to_save", value: .null),
            JSONNodeMember(key: "init_lora_weights", value: .bool(true)),
            JSONNodeMember(key: "inference_mode", value: .bool(true)),
        ])
        return Array((node.serialized(pretty: true) + "\n").utf8)
    }

    static func weights(_ adapter: ExportedAdapter) throws -> [UInt8] {
        var builder = SafetensorsBuilder()
        builder.setMetadata("format", "pt")
        for (key, value) in AdapterMetadata.entries(adapter) { builder.setMetadata(key, value) }
        for p in adapter.pairs {
            try builder.add("base_model.model.\(p.target).lora_A.weight", f32: p.a, shape: [p.rank, p.inFeatures])
            try builder.add("base_model.model.\(p.target).lora_B.weight", f32: p.b, shape: [p.outFeatures, p.rank])
        }
        return try builder.build()
    }
}
