import Foundation
import PruneFormats

extension EditManifest {
    /// Places every edit on `model`: maps tensor names (the model's own, or Hugging Face/GGUF names
    /// for gpt2 and llama), checks shapes and converts each delta to its tensor's stored orientation.
    /// Returns one `ResolvedEdit` per manifest edit, in order, or throws the first error.
    public func resolve(against model: ModelDescription) throws -> [ResolvedEdit] {
        let locator = TensorLocator(model: model)
        return try edits.map { try resolve($0, locator: locator) }
    }

    /// Convenience for callers that hold the parts of a model description.
    public func resolve(against tensors: [TensorInfo], format: ModelFormat, architecture: String?,
                        headCount: Int? = nil, headCountKV: Int? = nil) throws -> [ResolvedEdit] {
        try resolve(against: ModelDescription(format: format, tensors: tensors, architecture: architecture,
                                              headCount: headCount, headCountKV: headCountKV))
    }

    private func resolve(_ edit: ManifestEdit, locator: TensorLocator) throws -> ResolvedEdit {
        let line = edit.line
        func place(_ name: String) throws -> TensorPlacement {
            do { return try locator.locate(name) } catch {
                switch error {
                case .unknown(let s): throw EditError.unknownTensor(manifest: path, line: line, tensor: name, suggestion: s)
                case .uneditable(let r): throw EditError.uneditableTensor(manifest: path, line: line, tensor: name, reason: r)
                case .missingInfo(let r): throw EditError.missingModelInfo(manifest: path, line: line, tensor: name, reason: r)
                }
            }
        }
        func shapeError(_ field: String, _ reason: String) -> EditError {
            .wrongShape(manifest: path, line: line, field: field, reason: reason)
        }
        func describe(_ name: String, _ p: TensorPlacement) -> String {
            let shown = name == p.info.name ? quoted(name) : "\(quoted(name)) (\(quoted(p.info.name)) in this file)"
            return "tensor \(shown) is [" + p.logicalShape.map(String.init).joined(separator: ", ") + "]"
        }

        switch edit.kind {
        case .lowRank(let name, let u, let v, let scale):
            let p = try place(name)
            guard !p.isVector else {
                throw EditError.uneditableTensor(manifest: path, line: line, tensor: name, reason: "it is 1-D; use a dense delta")
            }
            let shape = p.logicalShape
            guard u.rowCount == shape[0] else {
                throw shapeError("u", "u is \(u.shapeText) but \(describe(name, p)): u needs \(shape[0]) rows")
            }
            guard v.rowCount == shape[1] else {
                throw shapeError("v", "v is \(v.shapeText) but \(describe(name, p)): v needs \(shape[1]) rows")
            }
            let target = lowRankTarget(p, u: u.values, v: v.values, rank: u.columnCount, scale: scale)
            return ResolvedEdit(id: edit.id, line: line, kind: edit.kindName, targets: [target])

        case .dense(let name, let delta, let scale):
            let p = try place(name)
            let shape = p.logicalShape
            guard delta.shape == shape else {
                throw shapeError("delta", "delta is \(delta.shapeText) but \(describe(name, p))")
            }
            return ResolvedEdit(id: edit.id, line: line, kind: edit.kindName, targets: [denseTarget(p, hf: delta.values, scale: scale)])

        case .fact:
            // Computed from the model by the fact engine (Apply fills the targets).
            return ResolvedEdit(id: edit.id, line: line, kind: edit.kindName, targets: [])

        case .lora(let adapter, let scale):
            var targets: [TensorDelta] = []
            var seen = Set<String>()
            for m in adapter.modules {
                let weight = m.module + ".weight"
                let p: TensorPlacement
                do { p = try place(weight) } catch let e as EditError {
                    if case .unknownTensor = e {
                        throw EditError.unmappableModule(manifest: path, line: line, adapter: adapter.path, module: m.module)
                    }
                    throw e
                }
                guard !p.isVector else {
                    throw EditError.badAdapter(manifest: path, line: line, adapter: adapter.path, reason: "module \(quoted(m.module)) has a 1-D weight")
                }
                guard seen.insert(p.info.name).inserted else {
                    throw EditError.badAdapter(manifest: path, line: line, adapter: adapter.path, reason: "two modules map to tensor \(quoted(p.info.name))")
                }
                // ΔW_hf = s·B·A ([out, in]), or its transpose for Conv1D (fan_in_fan_out) and embeddings.
                // PEFT itself forces fan_in_fan_out to match the module type (Conv1D → true,
                // Linear → false), so for known architectures the module type decides.
                var transposedDelta = m.isEmbedding || m.fanInFanOut
                if !m.isEmbedding, let arch = locator.arch, let c = TensorNaming.canonicalName(p.info.name, arch: arch) {
                    transposedDelta = TensorNaming.ggufOrientation(canonical: c, arch: arch, heads: nil, headsKV: nil) == .transposed
                }
                let at = m.a.transposed()          // in × r
                let (uHF, vHF) = transposedDelta ? (at, m.b) : (m.b, at)
                let shape = p.logicalShape
                guard uHF.shape[0] == shape[0], vHF.shape[0] == shape[1] else {
                    let product = transposedDelta ? "(B·A)ᵀ" : "B·A"
                    throw EditError.wrongShape(manifest: path, line: line, field: "adapter",
                        reason: "module \(quoted(m.module)): lora_A \(m.a.shapeText), lora_B \(m.b.shapeText) give \(product) of [\(uHF.shape[0]), \(vHF.shape[0])] but \(describe(weight, p))")
                }
                targets.append(lowRankTarget(p, u: uHF.values, v: vHF.values, rank: m.rank, scale: m.scaling * scale))
            }
            return ResolvedEdit(id: edit.id, line: line, kind: edit.kindName, targets: targets)
        }
    }

    /// Places a low-rank delta u vᵀ given in the Hugging Face name and orientation of `tensor`
    /// (u rows × rank, v cols × rank, row-major) on `model`: the fact engine's deltas go through here.
    public func placeLowRank(tensor name: String, u: [Float], v: [Float], rank: Int, line: Int,
                             against model: ModelDescription) throws -> TensorDelta {
        let locator = TensorLocator(model: model)
        let p: TensorPlacement
        do { p = try locator.locate(name) } catch {
            switch error {
            case .unknown(let s): throw EditError.unknownTensor(manifest: path, line: line, tensor: name, suggestion: s)
            case .uneditable(let r): throw EditError.uneditableTensor(manifest: path, line: line, tensor: name, reason: r)
            case .missingInfo(let r): throw EditError.missingModelInfo(manifest: path, line: line, tensor: name, reason: r)
            }
        }
        let shape = p.logicalShape
        guard shape.count == 2, u.count == shape[0] * rank, v.count == shape[1] * rank else {
            throw EditError.wrongShape(manifest: path, line: line, field: "u",
                                       reason: "a delta of \(u.count / max(rank, 1)) × \(v.count / max(rank, 1)) does not fit tensor \(quoted(name)) \(shape)")
        }
        return lowRankTarget(p, u: u, v: v, rank: rank, scale: 1)
    }

    /// u (R×k), v (C×k) in the Hugging Face orientation → stored orientation, scale folded into u.
    private func lowRankTarget(_ p: TensorPlacement, u: [Float], v: [Float], rank k: Int, scale: Double) -> TensorDelta {
        var su: [Float], sv: [Float]
        switch p.layout {
        case .asStored: (su, sv) = (u, v)
        case .transposed: (su, sv) = (v, u)
        case .permutedRows(let heads):
            let source = TensorPlacement.permutationSource(count: p.rows, heads: heads)
            su = [Float](repeating: 0, count: u.count)
            for (s, src) in source.enumerated() { for r in 0..<k { su[s * k + r] = u[src * k + r] } }
            sv = v
        }
        if scale != 1 { su = su.map { Float(Double($0) * scale) } }
        return TensorDelta(tensor: p.info.name, rows: p.rows, cols: p.cols, delta: .lowRank(u: su, v: sv, rank: k))
    }

    /// A dense delta in the Hugging Face orientation → stored orientation, scale folded in.
    private func denseTarget(_ p: TensorPlacement, hf: [Float], scale: Double) -> TensorDelta {
        var d: [Float]
        switch p.layout {
        case .asStored: d = hf
        case .transposed: d = EditMatrix(shape: [p.cols, p.rows], values: hf).transposed().values
        case .permutedRows(let heads):
            // Rows of the stored matrix, or the elements of a 1-D tensor (a q/k bias).
            let (n, width) = p.isVector ? (p.cols, 1) : (p.rows, p.cols)
            let source = TensorPlacement.permutationSource(count: n, heads: heads)
            d = [Float](repeating: 0, count: hf.count)
            for (s, src) in source.enumerated() { for j in 0..<width { d[s * width + j] = hf[src * width + j] } }
        }
        if scale != 1 { d = d.map { Float(Double($0) * scale) } }
        return TensorDelta(tensor: p.info.name, rows: p.rows, cols: p.cols, delta: .dense(d))
    }
}
