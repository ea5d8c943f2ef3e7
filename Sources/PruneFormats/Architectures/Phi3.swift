extension ArchitectureSpec {
    /// Phi-3, Phi-3.5, Phi-4: fused q/k/v and fused gate/up projections (gate first), partial RoPE
    /// where the config says, a sliding window on every layer where it gives one.
    static let phi3 = ArchitectureSpec(
        ggufNames: ["phi3"], hfNames: ["phi3", "Phi3ForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals,
        blocks: ["input_layernorm": "attn_norm", "self_attn.qkv_proj": "attn_qkv", "self_attn.o_proj": "attn_output",
                 "post_attention_layernorm": "ffn_norm", "mlp.gate_up_proj": "ffn_up", "mlp.down_proj": "ffn_down"],
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated, windowLayout: .all))
}
