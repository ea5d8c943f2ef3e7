extension ArchitectureSpec {
    /// The Hugging Face names of the Llama-like families (Llama, Mistral, Qwen 2/3).
    static let llamaGlobals = ["embed_tokens": "token_embd", "norm": "output_norm"]
    static let llamaBlocks = [
        "input_layernorm": "attn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
    ]

    /// Llama 2/3.x, SmolLM, TinyLlama: RMSNorm, RoPE (llama3 scaling kept), grouped-query attention,
    /// SwiGLU. llama.cpp's converter permutes the q/k rows.
    static let llama = ArchitectureSpec(
        ggufNames: ["llama"], hfNames: ["llama", "LlamaForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals, blocks: llamaBlocks,
        permutesQK: true,
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated))
}
