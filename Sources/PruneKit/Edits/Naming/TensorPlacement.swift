import PruneFormats
/// Where a manifest's tensor name lands in a model file and how a delta given in the Hugging Face
/// module orientation maps onto the stored matrix.
struct TensorPlacement {
    var info: TensorInfo
    /// Stored matrix shape (`TensorInfo.matrixShape`).
    var rows: Int
    var cols: Int
    var layout: Layout
    /// The tensor is 1-D (a bias or a norm): its deltas are vectors.
    var isVector: Bool

    enum Layout: Equatable {
        /// The Hugging Face orientation is the stored one (or the architecture is unknown).
        case asStored
        /// Stored = ΔWᵀ (GPT-2 Conv1D weights in GGUF).
        case transposed
        /// Stored = P·ΔW with llama.cpp's q/k permutation over `heads` heads.
        case permutedRows(heads: Int)
    }

    /// The Hugging Face shape [R, C] (a vector's is [n]).
    var logicalShape: [Int] {
        if isVector { return [cols] }
        return layout == .transposed ? [cols, rows] : [rows, cols]
    }

    /// The stored row for each Hugging Face row under llama.cpp's q/k permutation (see
    /// `TensorNaming.permutationSource`): result[s] = hf[source[s]].
    static func permutationSource(count n: Int, heads: Int) -> [Int] {
        TensorNaming.permutationSource(count: n, heads: heads)
    }
}

/// Finds the tensors a manifest names in one model.
struct TensorLocator {
    let model: ModelDescription
    let arch: KnownArchitecture?
    private var byName: [String: TensorInfo] = [:]
    private var byCanonical: [String: TensorInfo] = [:]

    init(model: ModelDescription) {
        self.model = model
        self.arch = model.knownArchitecture
        for t in model.tensors where byName[t.name] == nil { byName[t.name] = t }
        if let arch {
            for t in model.tensors {
                if let c = TensorNaming.canonicalName(t.name, arch: arch), byCanonical[c] == nil { byCanonical[c] = t }
            }
        }
    }

    enum Failure: Error {
        case unknown(suggestion: String?)
        case uneditable(String)
        case missingInfo(String)
    }

    func locate(_ name: String) throws(Failure) -> TensorPlacement {
        var found = byName[name]
        var canonical: String?
        if let arch {
            canonical = TensorNaming.canonicalName(found?.name ?? name, arch: arch)
            if found == nil, let c = canonical {
                found = byCanonical[c]
                // Tied output: GPT-2 (and tied Llama) files have no separate lm_head/output weight.
                if found == nil, c == "output.weight" { found = byCanonical["token_embd.weight"] }
            }
        }
        guard let info = found else {
            throw .unknown(suggestion: closestName(to: name, in: model.tensors.map(\.name)))
        }
        let isFloat: Bool
        switch info.type {
        case .safetensors(let d): isFloat = d.isFloat
        case .ggml(let g): isFloat = ![.i8, .i16, .i32, .i64].contains(g)
        }
        guard isFloat else { throw .uneditable("its type \(info.type) is not a float type") }
        guard let shape = info.matrixShape, info.elementCount > 0 else { throw .uneditable("it has no elements or is 0-D") }
        var layout = TensorPlacement.Layout.asStored
        if model.format == .gguf, let arch, let c = canonical {
            switch TensorNaming.ggufOrientation(canonical: c, arch: arch, heads: model.headCount, headsKV: model.headCountKV) {
            case .same: break
            case .transposed: layout = info.shape.count == 2 ? .transposed : .asStored
            case .permutedRows(let heads, let kv):
                let n = info.shape.count == 1 ? shape.cols : shape.rows
                guard let h = heads, h > 0 else {
                    throw .missingInfo("the model does not give its attention head count (\(arch.rawValue).attention.head_count\(kv ? "_kv" : ""))")
                }
                guard n % (2 * h) == 0 else {
                    throw .missingInfo("\(n) rows do not split into \(h) heads of an even size")
                }
                layout = .permutedRows(heads: h)
            }
        }
        return TensorPlacement(info: info, rows: shape.rows, cols: shape.cols, layout: layout, isVector: info.shape.count == 1)
    }
}
