extension ArchitectureSpec {
    /// GPT-2: learned positions, LayerNorm, fused q/k/v, gelu MLP; Hugging Face stores its Conv1D
    /// weights [in, out] and llama.cpp's converter transposes them.
    static let gpt2 = ArchitectureSpec(
        ggufNames: ["gpt2"], hfNames: ["gpt2", "GPT2LMHeadModel"],
        hfPrefix: "transformer.", hfBlockWord: "h",
        globals: ["wte": "token_embd", "wpe": "position_embd", "ln_f": "output_norm"],
        blocks: ["ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output",
                 "ln_2": "ffn_norm", "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"],
        transposedInHF: ["attn_qkv", "attn_output", "ffn_up", "ffn_down"], tiesEmbeddingsByDefault: true,
        defaultActivation: "gelu_new", editingReference: .gpt2XL,
        recipe: BlockRecipe(norm: .layerNorm, positions: .learned, feedForward: .plain))
}
