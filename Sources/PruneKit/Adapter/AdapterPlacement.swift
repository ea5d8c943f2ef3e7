import PruneFormats

/// Where a tensor of a sidecar goes in an adapter, and how its stored matrix turns into the layer's
/// [out, in] orientation: the sidecar stores deltas as the model file it was made on stores the
/// tensor (GGUF: always [out, in]; safetensors: [out, in] except GPT-2's Conv1D weights, [in, out]),
/// and llama.cpp stores Llama's q/k rows permuted for its RoPE layout (`TensorNaming`).
struct AdapterPlacement: Equatable {
    /// The name in the adapter (GGUF tensor name, or Hugging Face module path without `.weight`).
    var target: String
    /// The stored matrix is Wᵀ (its rows are the layer's inputs).
    var transposed: Bool
    /// A row permutation of the [out, in] matrix between the Hugging Face and GGUF layouts.
    var rows: RowOrder

    enum RowOrder: Equatable {
        case same
        /// Hugging Face rows → llama.cpp's permuted rows (`stored[s] = hf[source[s]]`).
        case toGGUF(heads: Int)
        /// llama.cpp's permuted rows → Hugging Face rows.
        case toHF(heads: Int)
    }

    /// The model the sidecar was made on as far as naming needs it.
    struct Model {
        /// The sidecar's model format.
        var format: ModelFormat
        var arch: KnownArchitecture?
        var headCount: Int?
        var headCountKV: Int?
        /// Whether the architecture came from a base model (messages say "give --base" otherwise).
        var fromBase: Bool
    }

    /// The architecture every name of `names` belongs to, when exactly one known architecture fits.
    static func inferArchitecture(names: [String], format: ModelFormat) -> KnownArchitecture? {
        let fits = fittingArchitectures(names: names, format: format)
        return fits.count == 1 ? fits[0] : nil
    }

    /// The families whose tensor names include every name (`TensorNaming.fitting`).
    static func fittingArchitectures(names: [String], format: ModelFormat) -> [KnownArchitecture] {
        TensorNaming.fitting(names, format: format)
    }

    /// Places the sidecar tensor `name` (stored rows × cols) for `format`.
    static func place(_ name: String, shape: [Int], rows: Int, model: Model, format: AdapterFormat,
                      sidecar: String) throws -> AdapterPlacement {
        guard shape.count == 2 else {
            throw AdapterError.untargetable(sidecar: sidecar, tensor: name, reason: "it is \(shape.count)-D; adapters hold matrices")
        }
        let canonical = model.arch.flatMap { TensorNaming.canonicalName(name, arch: $0) }
        if let c = canonical, ["token_embd.weight", "position_embd.weight"].contains(c) {
            throw AdapterError.untargetable(sidecar: sidecar, tensor: name, reason: "it is an embedding table, not a linear layer")
        }
        func needBase(_ reason: String) -> AdapterError {
            model.fromBase ? .untargetable(sidecar: sidecar, tensor: name, reason: reason)
                : .needsBase(sidecar: sidecar, tensor: name, reason: reason)
        }
        // The layout change between the two vocabularies, for a known architecture.
        var conv1D = false
        var permutedHeads: Int?
        if let arch = model.arch, let c = canonical {
            switch TensorNaming.ggufOrientation(canonical: c, arch: arch, heads: model.headCount, headsKV: model.headCountKV) {
            case .same: break
            case .transposed: conv1D = true
            case .permutedRows(let heads, let kv):
                let crossing = (model.format == .gguf) != (format == .gguf)
                if crossing {
                    guard let h = heads, h > 0 else {
                        throw needBase("its rows are permuted by attention head between the Hugging Face and GGUF layouts, and the head count (\(arch.rawValue).attention.head_count\(kv ? "_kv" : "")) is unknown")
                    }
                    guard rows % (2 * h) == 0 else {
                        throw AdapterError.untargetable(sidecar: sidecar, tensor: name, reason: "\(rows) rows do not split into \(h) heads of an even size")
                    }
                    permutedHeads = h
                }
            }
        }
        switch (model.format, format) {
        case (.gguf, .gguf):
            return AdapterPlacement(target: name, transposed: false, rows: .same)
        case (.safetensors, .peft):
            if let arch = model.arch, let c = canonical, let hf = TensorNaming.hfName(forGGUF: c, arch: arch) {
                return AdapterPlacement(target: String(hf.dropLast(".weight".count)), transposed: conv1D, rows: .same)
            }
            guard name.hasSuffix(".weight") else {
                throw AdapterError.untargetable(sidecar: sidecar, tensor: name, reason: "it is not a module's .weight")
            }
            return AdapterPlacement(target: String(name.dropLast(".weight".count)), transposed: false, rows: .same)
        case (.gguf, .peft):
            guard let arch = model.arch, let c = canonical, let hf = TensorNaming.hfName(forGGUF: c, arch: arch), hf.hasSuffix(".weight") else {
                throw needBase("its Hugging Face module name is unknown (the architecture is not gpt2 or llama, or not recognised from the names)")
            }
            return AdapterPlacement(target: String(hf.dropLast(".weight".count)), transposed: false,
                                    rows: permutedHeads.map { .toHF(heads: $0) } ?? .same)
        case (.safetensors, .gguf):
            guard model.arch != nil, let c = canonical else {
                throw needBase("its GGUF tensor name is unknown (the architecture is not gpt2 or llama, or not recognised from the names)")
            }
            return AdapterPlacement(target: c, transposed: conv1D, rows: permutedHeads.map { .toGGUF(heads: $0) } ?? .same)
        }
    }

    /// Reorders the rows of `b` (out × r, row-major).
    func reorder(_ b: [Float], rank r: Int) -> [Float] {
        switch rows {
        case .same: return b
        case .toGGUF(let heads):
            let n = b.count / max(r, 1)
            let source = TensorNaming.permutationSource(count: n, heads: heads)
            var out = b
            for s in 0..<n { for k in 0..<r { out[s * r + k] = b[source[s] * r + k] } }
            return out
        case .toHF(let heads):
            let n = b.count / max(r, 1)
            let source = TensorNaming.permutationSource(count: n, heads: heads)
            var out = b
            for s in 0..<n { for k in 0..<r { out[source[s] * r + k] = b[s * r + k] } }
            return out
        }
    }
}
