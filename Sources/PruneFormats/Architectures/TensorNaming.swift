/// Tensor names of the known architectures, brought to one canonical form: the GGUF name.
/// Pure naming and layout knowledge shared by the edit resolver (PruneKit) and the runtime.
package enum TensorNaming {
    /// The canonical (GGUF) name of a tensor name in either vocabulary, or nil when the name is
    /// neither a Hugging Face nor a GGUF tensor name of `arch`.
    package static func canonicalName(_ name: String, arch: KnownArchitecture) -> String? {
        if isGGUFName(name, arch: arch) { return name }
        return ggufName(forHF: name, arch: arch)
    }

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
        let spec = arch.spec
        let prefix = spec.hfPrefix, blockWord = spec.hfBlockWord + "."
        let globals = spec.globals, blocks = spec.blocks
        let body = module.hasPrefix(prefix) ? module.dropFirst(prefix.count) : module
        if let g = globals[String(body)] { return "\(g).\(parameter)" }
        guard body.hasPrefix(blockWord), let (block, rest) = splitBlock(body.dropFirst(blockWord.count)),
              let b = blocks[String(rest)] else { return nil }
        return "blk.\(block).\(b).\(parameter)"
    }

    package static func isGGUFName(_ name: String, arch: KnownArchitecture) -> Bool {
        guard let (module, _) = splitParameter(name) else { return false }
        let spec = arch.spec
        if module == "output" || spec.globals.values.contains(String(module)) { return true }
        guard module.hasPrefix("blk."), let (_, rest) = splitBlock(module.dropFirst(4)) else { return false }
        return spec.blocks.values.contains(String(rest))
    }

    /// The Hugging Face name of a canonical (GGUF) tensor name, with the prefix save_pretrained
    /// writes (the family's `hfPrefix`); nil for names outside the tables.
    package static func hfName(forGGUF name: String, arch: KnownArchitecture) -> String? {
        guard let (module, parameter) = splitParameter(name) else { return nil }
        if module == "output" { return "lm_head.\(parameter)" }
        let spec = arch.spec
        if let g = spec.globals.first(where: { $0.value == String(module) }) { return "\(spec.hfPrefix)\(g.key).\(parameter)" }
        guard module.hasPrefix("blk."), let (block, rest) = splitBlock(module.dropFirst(4)),
              let hf = spec.hfModule(role: String(rest), layer: String(block)) else { return nil }
        return "\(hf).\(parameter)"
    }

    /// Buffers some checkpoints carry beside the weights (GPT-2's causal masks, Llama's rotary
    /// frequencies), which llama.cpp's converter drops.
    static let bufferSuffixes = [".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq"]

    /// The families whose tables name every one of `names` (GGUF names in a GGUF file, Hugging Face
    /// names otherwise). Several share names: Llama, Mistral, Qwen and Gemma all have `attn_q`;
    /// GPT-2 and Phi-3 both have `attn_qkv`.
    package static func fitting(_ names: [String], format: ModelFormat) -> [KnownArchitecture] {
        KnownArchitecture.allCases.filter { arch in
            !names.isEmpty && names.allSatisfy { name in
                format == .gguf ? isGGUFName(name, arch: arch) : ggufName(forHF: name, arch: arch) != nil
            }
        }
    }

    /// The family of a whole checkpoint from its Hugging Face tensor names: among the families that
    /// name every tensor, those whose recipe's own tensors are there (QK-norm and sandwich norms
    /// exactly when the recipe has them, q/k/v biases where it always has them; where biases are
    /// there, the families that always have them before those that allow them). Where several remain
    /// (Llama and Mistral share everything), the first when all of them name and lay out every tensor
    /// alike; otherwise nil (unknown: the file's own names only).
    package static func recognize(checkpoint all: [String]) -> KnownArchitecture? {
        let names = all.filter { n in !bufferSuffixes.contains { n.hasSuffix($0) } }
        let canonical = { (arch: KnownArchitecture) in Set(names.compactMap { ggufName(forHF: $0, arch: arch) }) }
        var biased: [KnownArchitecture: Bool] = [:]
        let found = fitting(names, format: .safetensors).filter { arch in
            let roles = canonical(arch), r = arch.spec.recipe
            func has(_ role: String) -> Bool { roles.contains { $0.hasSuffix(".\(role).weight") } }
            biased[arch] = roles.contains { $0.hasSuffix(".attn_q.bias") }
            return has("attn_q_norm") == r.qkNorm && has("post_ffw_norm") == r.sandwichNorms && (!r.qkvBias || biased[arch]!)
        }
        // q/k/v biases where a recipe always has them (Qwen2) rather than as an option (Llama's
        // attention_bias): the families whose recipe agrees with the checkpoint first.
        let agreeing = found.filter { biased[$0] == $0.spec.recipe.qkvBias }
        let candidates = agreeing.isEmpty ? found : agreeing
        guard let first = candidates.first else { return nil }
        func layout(_ a: KnownArchitecture) -> [String] {
            let s = a.spec
            return names.map { ggufName(forHF: $0, arch: a) ?? "" }
                + ["\(s.permutesQK)", "\(s.hfNormAddsOne)", s.transposedInHF.sorted().joined(separator: ",")]
        }
        return candidates.allSatisfy { layout($0) == layout(first) } ? first : nil
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
        let spec = arch.spec
        // convert_hf_to_gguf transposes GPT-2's Conv1D weights ([in, out] → stored out × in).
        if parameter == "weight", spec.transposedInHF.contains(role) { return .transposed }
        // Llama/Mistral q_proj/k_proj rows are permuted for GGML's RoPE layout:
        // permute(w, n_head, n_head) for q, permute(w, n_head, n_head_kv) for k.
        if spec.permutesQK, role == "attn_q" { return .permutedRows(heads: heads, kv: false) }
        if spec.permutesQK, role == "attn_k" { return .permutedRows(heads: headsKV ?? heads, kv: true) }
        return .same
    }

    package enum GGUFLayout: Equatable {
        case same
        case transposed
        /// `heads` nil when the model does not say (an error if such a tensor is edited).
        case permutedRows(heads: Int?, kv: Bool)
    }
}
