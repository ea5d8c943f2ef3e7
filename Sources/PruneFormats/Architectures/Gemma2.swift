extension ArchitectureSpec {
    /// Gemma's block names: norms around both halves of the block.
    static let gemmaBlocks = [
        "input_layernorm": "attn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "post_attention_layernorm": "post_attention_norm",
        "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
    ]

    /// Gemma 2: RMSNorm scaling by 1 + w, sandwich norms, GeGLU, embedding × √d, attention and
    /// final-logit softcapping, a sliding window on every other layer (from layer 0).
    static let gemma2 = ArchitectureSpec(
        ggufNames: ["gemma2"], hfNames: ["gemma2", "Gemma2ForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals, blocks: gemmaBlocks,
        hfNormAddsOne: true, tiesEmbeddingsByDefault: true, defaultActivation: "gelu_pytorch_tanh",
        ggufWindowLayout: .alternating, ggufDefaultWindow: 4096, ggufWidthScaledQueriesAtDepth: 46,
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated, sandwichNorms: true,
                            scalesEmbedding: true, windowLayout: .alternating))
}
