/// The architectures whose Hugging Face ↔ GGUF tensor names and layouts prune knows
/// (as llama.cpp's convert_hf_to_gguf.py and gguf-py's tensor_mapping define them).
public enum KnownArchitecture: String, Sendable, CaseIterable {
    case gpt2
    case llama

    /// Maps an architecture name (GGUF `general.architecture`, or config.json `model_type`) to a
    /// known architecture. Mistral checkpoints are converted as `llama` (same names and permutation).
    public init?(name: String) {
        switch name.lowercased() {
        case "gpt2": self = .gpt2
        case "llama", "mistral": self = .llama
        default: return nil
        }
    }
}

/// Tensor names of the known architectures, brought to one canonical form: the GGUF name.
/// Pure naming and layout knowledge shared by the edit resolver (PruneKit) and the runtime.
package enum TensorNaming {
    /// The canonical (GGUF) name of a tensor name in either vocabulary, or nil when the name is
    /// neither a Hugging Face nor a GGUF tensor name of `arch`.
    package static func canonicalName(_ name: String, arch: KnownArchitecture) -> String? {
        if isGGUFName(name, arch: arch) { return name }
        return ggufName(forHF: name, arch: arch)
    }

    private static let gpt2Blocks: [String: String] = [
        "ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output",
        "ln_2": "ffn_norm", "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down",
    ]
    private static let gpt2Globals: [String: String] = [
        "wte": "token_embd", "wpe": "position_embd", "ln_f": "output_norm",
    ]
    private static let llamaBlocks: [String: String] = [
        "input_layernorm": "attn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
    ]
    private static let llamaGlobals: [String: String] = [
        "embed_tokens": "token_embd", "norm": "output_norm",
    ]

    /// Splits "a.b.weight" into ("a.b", "weight") for the parameter suffixes weight/bias.
    private static func splitParameter(_ name: String) -> (module: Substring, parameter: Substring)? {
        guard let dot = name.lastIndex(of: ".") else { return nil }
        let parameter = name[name.index(after: dot)...]
        guard parameter == "weight" || parameter == "bias" else { return nil }
        return (name[..<dot], parameter)
    }

    /// "7.rest" → (7, "rest") for a decimal block index without leading zeros.
    private static func splitBlock(_ s: Substring) -> (Int, Substring)? {
        guard let dot = s.firstIndex(of: ".") else { return nil }
        let digits = s[..<dot]
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              digits == "0" || !digits.hasPrefix("0"), let n = Int(digits) else { return nil }
        return (n, s[s.index(after: dot)...])
    }

    package static func ggufName(forHF name: String, arch: KnownArchitecture) -> String? {
        guard let (module, parameter) = splitParameter(name) else { return nil }
        if module == "lm_head" { return "output.\(parameter)" }
        let prefix = arch == .gpt2 ? "transformer." : "model."
        let blockWord = arch == .gpt2 ? "h." : "layers."
        let globals = arch == .gpt2 ? gpt2Globals : llamaGlobals
        let blocks = arch == .gpt2 ? gpt2Blocks : llamaBlocks
        let body = module.hasPrefix(prefix) ? module.dropFirst(prefix.count) : module
        if let g = globals[String(body)] { return "\(g).\(parameter)" }
        guard body.hasPrefix(blockWord), let (block, rest) = splitBlock(body.dropFirst(blockWord.count)),
              let b = blocks[String(rest)] else { return nil }
        return "blk.\(block).\(b).\(parameter)"
    }

    package static func isGGUFName(_ name: String, arch: KnownArchitecture) -> Bool {
        guard let (module, _) = splitParameter(name) else { return false }
        let globals = (arch == .gpt2 ? gpt2Globals : llamaGlobals).values
        if module == "output" || globals.contains(String(module)) { return true }
        guard module.hasPrefix("blk."), let (_, rest) = splitBlock(module.dropFirst(4)) else { return false }
        return (arch == .gpt2 ? gpt2Blocks : llamaBlocks).values.contains(String(rest))
    }

    /// The Hugging Face name of a canonical (GGUF) tensor name, with the prefix save_pretrained
    /// writes (`transformer.` for GPT-2, `model.` for Llama); nil for names outside the tables.
    package static func hfName(forGGUF name: String, arch: KnownArchitecture) -> String? {
        guard let (module, parameter) = splitParameter(name) else { return nil }
        if module == "output" { return "lm_head.\(parameter)" }
        let prefix = arch == .gpt2 ? "transformer." : "model."
        let globals = arch == .gpt2 ? gpt2Globals : llamaGlobals
        if let g = globals.first(where: { $0.value == String(module) }) { return "\(prefix)\(g.key).\(parameter)" }
        guard module.hasPrefix("blk."), let (block, rest) = splitBlock(module.dropFirst(4)),
              let b = (arch == .gpt2 ? gpt2Blocks : llamaBlocks).first(where: { $0.value == String(rest) }) else { return nil }
        return "\(prefix)\(arch == .gpt2 ? "h" : "layers").\(block).\(b.key).\(parameter)"
    }

    /// The stored row for each Hugging Face row under llama.cpp's q/k permutation
    /// `w.reshape(h, 2, n/h/2, …).swapaxes(1, 2).reshape(w.shape)`: result[s] = hf[source[s]].
    package static func permutationSource(count n: Int, heads: Int) -> [Int] {
        let perHead = n / heads, half = perHead / 2
        var source = [Int](repeating: 0, count: n)
        for h in 0..<heads {
            for j in 0..<half {
                for t in 0..<2 { source[h * perHead + j * 2 + t] = h * perHead + t * half + j }
            }
        }
        return source
    }

    /// How the GGUF converter lays out a tensor relative to its Hugging Face module orientation.
    package static func ggufOrientation(canonical: String, arch: KnownArchitecture, heads: Int?, headsKV: Int?)
        -> GGUFLayout {
        guard let (module, parameter) = splitParameter(canonical) else { return .same }
        let role = module.split(separator: ".").last.map(String.init) ?? ""
        switch arch {
        case .gpt2:
            // convert_hf_to_gguf transposes the Conv1D weights ([in, out] → stored out × in).
            if parameter == "weight", ["attn_qkv", "attn_output", "ffn_up", "ffn_down"].contains(role) { return .transposed }
            return .same
        case .llama:
            // q_proj/k_proj rows are permuted for GGML's RoPE layout: permute(w, n_head, n_head)
            // for q, permute(w, n_head, n_head_kv) for k.
            if role == "attn_q" { return .permutedRows(heads: heads, kv: false) }
            if role == "attn_k" { return .permutedRows(heads: headsKV ?? heads, kv: true) }
            return .same
        }
    }

    package enum GGUFLayout: Equatable {
        case same
        case transposed
        /// `heads` nil when the model does not say (an error if such a tensor is edited).
        case permutedRows(heads: Int?, kv: Bool)
    }
}
