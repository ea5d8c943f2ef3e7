/// What prune knows about one model family: how its tensors are named and laid out in Hugging Face
/// and GGUF files (as llama.cpp's convert_hf_to_gguf.py and gguf-py's tensor_mapping write them),
/// how its config keys read, and the recipe of its blocks. One file per family
/// (`Architectures/<Family>.swift`) holds its spec; nothing else in prune branches on a family.
public struct ArchitectureSpec: Sendable {
    /// GGUF `general.architecture` values of the family (the first is what llama.cpp's converter writes).
    public var ggufNames: [String]
    /// config.json `model_type` values and `architectures` class names.
    public var hfNames: [String]
    /// Prefix of the body tensors in Hugging Face files (`model.`, `transformer.`).
    public var hfPrefix: String
    /// The block list word (`layers`, `h`).
    public var hfBlockWord: String
    /// Hugging Face module → GGUF name of the tensors outside the blocks (`embed_tokens` → `token_embd`).
    public var globals: [String: String]
    /// Hugging Face module inside block N → GGUF role (`mlp.down_proj` → `ffn_down`).
    public var blocks: [String: String]
    /// GGUF roles whose weights Hugging Face stores transposed ([in, out]: GPT-2's Conv1D).
    public var transposedInHF: Set<String> = []
    /// llama.cpp's converter permutes the rows of q and k (and of their biases) for its interleaved
    /// RoPE (Llama, Mistral); NEOX-RoPE families are stored as Hugging Face has them.
    public var permutesQK = false
    /// Hugging Face stores RMSNorm weights w of a norm that scales by 1 + w (Gemma); llama.cpp's
    /// converter stores them with the 1 already added. The runtime adds it when it reads a HF file.
    public var hfNormAddsOne = false
    /// config.json's `tie_word_embeddings` when it does not say (transformers' default for the family).
    public var tiesEmbeddingsByDefault = false
    /// The MLP activation when config.json does not name one (`hidden_act` / `hidden_activation`).
    public var defaultActivation = "silu"
    /// How llama.cpp lays out the sliding-window layers of a GGUF file without a
    /// `<arch>.attention.sliding_window_pattern` key, and the window it assumes without a
    /// `<arch>.attention.sliding_window` key (Gemma 2: 4096). llama.cpp turns Phi-3's window off.
    public var ggufWindowLayout: BlockRecipe.WindowLayout = .none
    public var ggufDefaultWindow: Int? = nil
    /// The depth at which llama.cpp scales queries by 1/√(hidden/heads) instead of 1/√head_dim (the
    /// Gemma 27B models, as their query_pre_attn_scalar says; GGUF files do not carry it).
    public var ggufWidthScaledQueriesAtDepth: Int? = nil
    /// The module whose matrix ROME, MEMIT and AlphaEdit rewrite: the MLP's down projection
    /// (its input is the key), by GGUF role.
    public var editedRole = "ffn_down"
    /// Whose published editing hyperparameters the family starts from (scaled to its depth).
    public var editingReference: EditingReference = .llama3_8B
    /// The block recipe.
    public var recipe: BlockRecipe

    /// The Hugging Face module name of a GGUF role in block `layer` (`model.layers.3.mlp.down_proj`).
    public func hfModule(role: String, layer: String) -> String? {
        blocks.first(where: { $0.value == role }).map { "\(hfPrefix)\(hfBlockWord).\(layer).\($0.key)" }
    }
}

/// The published configurations of the editing repositories a family's defaults scale from.
public enum EditingReference: String, Sendable {
    /// kmeng01/rome and kmeng01/memit on gpt2-xl (48 layers): ROME layer 17, MEMIT 13…17.
    case gpt2XL
    /// AlphaEdit's and EasyEdit's Llama-3-8B (32 layers): ROME layer 5, MEMIT/AlphaEdit 4…8 (EasyEdit's
    /// Mistral-7B and Qwen2.5-7B configurations use the same layers).
    case llama3_8B

    public var depth: Int { self == .gpt2XL ? 48 : 32 }
}

/// How a block computes, by steps (the runtime has one block that follows any recipe).
public struct BlockRecipe: Sendable, Equatable {
    public enum Norm: String, Sendable { case layerNorm, rmsNorm }
    public enum Positions: String, Sendable { case learned, rotary }
    public enum FeedForward: String, Sendable {
        /// up → activation → down (GPT-2).
        case plain
        /// activation(gate) ⊙ up → down (SwiGLU with silu, GeGLU with gelu).
        case gated
    }
    /// How the family's sliding-window layers are laid out when config.json has no `layer_types`.
    public enum WindowLayout: Sendable, Equatable {
        /// Every layer uses the window when the config gives one (Mistral, Phi-3).
        case all
        /// Layers 0, 2, 4… use it (Gemma 2).
        case alternating
        /// Every layer except each n-th (Gemma 3: 5 local, 1 global).
        case everyNthGlobal(Int)
        /// The family has none (or only through `layer_types`).
        case none
    }

    public var norm: Norm
    public var positions: Positions
    public var feedForward: FeedForward
    /// Per-head RMSNorm of q and k before RoPE (Qwen 3, Gemma 3).
    public var qkNorm = false
    /// Norms of the attention output and of the MLP output before each joins the residual (Gemma 2/3).
    public var sandwichNorms = false
    /// The embedding is multiplied by √hidden (Gemma).
    public var scalesEmbedding = false
    public var windowLayout: WindowLayout = .none
    /// Sliding-window layers rotate with their own RoPE base, without the scaling (Gemma 3).
    public var localRope = false
    /// q, k and v always have biases (Qwen 2), whatever `attention_bias` says.
    public var qkvBias = false
}
