import Foundation
import PruneFormats

/// What `prune-adapter SIDECAR -o OUT [--base MODEL] [--rank K]` asks for.
public struct AdapterRequest: Sendable {
    public var sidecar: String
    /// A `.gguf` file (llama.cpp) or a folder (PEFT).
    public var output: String
    public var base: String?
    /// Keep at most this many components per tensor (and accept dense or full-rank deltas).
    public var rank: Int?

    public init(sidecar: String, output: String, base: String? = nil, rank: Int? = nil) {
        self.sidecar = sidecar
        self.output = output
        self.base = base
        self.rank = rank
    }
}

/// prune-adapter: a sidecar's restrained deltas as a LoRA adapter that inference engines apply to
/// the untouched base at run time (ΔW̄ = B·A per edited weight, scale 1).
public enum AdapterExport {
    /// Checks the paths, builds the adapter and writes it (a staged file or folder, renamed into
    /// place); returns what was written.
    public static func run(_ request: AdapterRequest) throws -> ExportedAdapter {
        let format = AdapterFormat(output: request.output)
        try checkOutput(request, format: format)
        let sidecar = try Sidecar.read(path: request.sidecar)
        let base = try request.base.map { try AdapterBase.open($0) }
        let adapter = try build(sidecar: sidecar, sidecarPath: request.sidecar, format: format, base: base, rank: request.rank)
        let staged = try stage(adapter, at: request.output)
        try TemporaryFiles.guarded { try staged.commit() }
        return adapter
    }

    /// The output is neither the sidecar nor the base, and its place can take it (before any work).
    static func checkOutput(_ request: AdapterRequest, format: AdapterFormat, otherInputs: [(String, String)] = []) throws {
        let inputs = [(request.sidecar, "the sidecar")] + (request.base.map { [($0, "the base model")] } ?? []) + otherInputs
        for (path, what) in inputs where RunPaths.same(request.output, path) {
            throw ApplyError.outputIsInput(path: request.output, option: "-o", input: path, what: what)
        }
        switch format {
        case .gguf:
            try RunPaths.checkWritable(request.output, what: "the adapter (-o)")
        case .peft:
            var st = stat()
            if stat(request.output, &st) == 0 {
                let empty = (st.st_mode & S_IFMT) == S_IFDIR
                    && ((try? FileManager.default.contentsOfDirectory(atPath: request.output))?.isEmpty ?? false)
                guard empty else {
                    throw AdapterError.badOutput(path: request.output, reason: "exists and is not an empty folder; a PEFT adapter is written as a new folder (-o; end the name with .gguf for a llama.cpp adapter)")
                }
            } else {
                try RunPaths.checkWritable(request.output, what: "the adapter folder (-o)")
            }
        }
    }

    /// An adapter written under a hidden name next to `output`: `commit` renames it into place (call
    /// it inside `TemporaryFiles.guarded`), `discard` removes it.
    struct Staged {
        var commit: () throws -> Void
        var discard: () -> Void
    }

    static func stage(_ adapter: ExportedAdapter, at output: String) throws -> Staged {
        switch adapter.format {
        case .gguf:
            let file = try StagedFile(bytes: GGUFAdapterWriter.bytes(adapter), destination: output)
            return Staged(commit: file.commit, discard: file.discard)
        case .peft:
            let folder = try FolderStaging(destination: output)
            do {
                try folder.write(PEFTAdapterWriter.config(adapter), as: PEFTAdapterWriter.configName)
                try folder.write(try PEFTAdapterWriter.weights(adapter), as: PEFTAdapterWriter.weightsName)
            } catch {
                folder.discard()
                throw error
            }
            return Staged(commit: folder.commit, discard: folder.discard)
        }
    }

    /// The adapter of `sidecar` for `format`, without writing anything. `base` names and orients
    /// tensors when the sidecar alone cannot, and every pair is checked against it. `family` (without a
    /// base): the family an existing adapter names, where the sidecar's names fit several.
    public static func build(sidecar: Sidecar, sidecarPath: String, format: AdapterFormat, base: AdapterBase?,
                             rank cap: Int?, family: KnownArchitecture? = nil) throws -> ExportedAdapter {
        let names = sidecar.tensors.map(\.name)
        let model: AdapterPlacement.Model
        var architecture: String?
        if let base {
            let known = base.model.knownArchitecture
                ?? (base.model.format == sidecar.model.format ? nil : AdapterPlacement.inferArchitecture(names: names, format: sidecar.model.format))
            model = AdapterPlacement.Model(format: sidecar.model.format, arch: known, headCount: base.model.headCount,
                                           headCountKV: base.model.headCountKV, fromBase: true)
            architecture = base.model.format == .gguf ? base.model.architecture : known?.rawValue
        } else {
            let fits = AdapterPlacement.fittingArchitectures(names: names, format: sidecar.model.format)
            let known = family.flatMap { fits.contains($0) ? $0 : nil } ?? AdapterPlacement.inferArchitecture(names: names, format: sidecar.model.format)
            model = AdapterPlacement.Model(format: sidecar.model.format, arch: known, headCount: nil, headCountKV: nil, fromBase: false)
            architecture = known?.rawValue
        }
        if format == .gguf, architecture == nil {
            let first = names.first ?? "-"
            if base != nil {
                throw AdapterError.badBase(base: base?.path ?? "", reason: "its architecture is unknown (general.architecture or config.json model_type)")
            }
            let fits = AdapterPlacement.fittingArchitectures(names: names, format: sidecar.model.format)
            let reason = fits.count > 1
                ? "the tensor names fit several architectures (\(fits.map(\.rawValue).joined(separator: ", "))), and llama.cpp needs the base's general.architecture"
                : "the architecture (general.architecture) is not recognised from the tensor names"
            throw AdapterError.needsBase(sidecar: sidecarPath, tensor: first, reason: reason)
        }

        var factored: [(record: Sidecar.Tensor, placement: AdapterPlacement, f: AdapterFactorization.Result)] = []
        var skipped: [String] = []
        var targets = Set<String>()
        for record in sidecar.tensors {
            if cap == nil, let term = record.terms.first(where: { if case .dense = $0.delta { return true }; return false }) {
                let id = term.edit < sidecar.edits.count ? sidecar.edits[term.edit].id : "#\(term.edit)"
                throw AdapterError.denseTerm(sidecar: sidecarPath, tensor: record.name, edit: id)
            }
            if cap == nil, record.forwardResidual != nil {
                throw AdapterError.forwardResidual(sidecar: sidecarPath, tensor: record.name, rank: record.restrained.rank)
            }
            let placement = try AdapterPlacement.place(record.name, shape: record.shape, rows: record.rows, model: model,
                                                       format: format, sidecar: sidecarPath)
            let f = try AdapterFactorization.factor(record, cap: cap)
            if cap == nil, f.fullRank * (record.rows + record.cols) >= record.rows * record.cols {
                throw AdapterError.notLowRank(sidecar: sidecarPath, tensor: record.name, rank: f.fullRank, rows: record.rows, cols: record.cols)
            }
            guard f.singularValues.count > 0 else { skipped.append(record.name); continue }
            guard targets.insert(placement.target).inserted else {
                throw AdapterError.untargetable(sidecar: sidecarPath, tensor: record.name, reason: "another tensor of the sidecar has the same adapter name \(quoted(placement.target))")
            }
            factored.append((record, placement, f))
        }
        // llama.cpp has one alpha per adapter and scales each pair by alpha/rank (GGUFAdapterWriter): with
        // alpha the largest rank R, a pair of rank r < R stores (r/R)·ΔW̄, √(r/R) folded into each factor in
        // float64 before the one f32 rounding, so that (R/r)·B·A is ΔW̄ for every tensor. PEFT has a
        // per-module alpha (alpha_pattern): nothing to fold.
        let largest = factored.map { $0.f.singularValues.count }.max() ?? 0
        var pairs: [AdapterPair] = []
        for (record, placement, f) in factored {
            let r = f.singularValues.count
            let folded = format == .gguf ? Double(r) / Double(largest) : 1
            let c = folded.squareRoot()
            // [out, in] orientation: B = the output-side factor, Aᵀ = the input-side one.
            let (bSide, aSide) = placement.transposed ? (f.q, f.p) : (f.p, f.q)
            let b = placement.reorder(bSide.storage.map { Float($0 * c) }, rank: r)
            let a = aSide.transposed().storage.map { Float($0 * c) }
            let total = (f.singularValues.reduce(0) { $0 + $1 * $1 } + f.residualNorm * f.residualNorm).squareRoot()
            pairs.append(AdapterPair(sidecarTensor: record.name, target: placement.target, outFeatures: bSide.rows,
                                     inFeatures: aSide.rows, a: a, b: b, singularValues: f.singularValues,
                                     fullRank: f.fullRank, residualNorm: f.residualNorm, deltaNorm: total,
                                     leavesForwardResidual: record.forwardResidual != nil, folded: folded))
        }
        guard !pairs.isEmpty else { throw AdapterError.empty(sidecar: sidecarPath) }
        if let base { try check(pairs, against: base, format: format, arch: model.arch) }
        let p = sidecar.parameters
        let restraint = p.restraint == "log" ? "log α=\(p.alpha) schedule \(p.schedule)" : "\(p.restraint) schedule \(p.schedule)"
        return ExportedAdapter(format: format, pairs: pairs, skipped: skipped, architecture: architecture,
                               fanInFanOut: !(model.arch?.spec.transposedInHF.isEmpty ?? true) && format == .peft, baseModel: base?.folder, rankCap: cap,
                               baseSHA256: sidecar.model.baseSHA256, restraint: restraint)
    }

    /// Every pair's weight exists in the base with the shape [out, in] (as the base stores it).
    static func check(_ pairs: [AdapterPair], against base: AdapterBase, format: AdapterFormat, arch: KnownArchitecture?) throws {
        let locator = TensorLocator(model: base.model)
        for pair in pairs {
            let name = format == .gguf ? pair.target : pair.target + ".weight"
            let info: TensorInfo
            do { info = try locator.locate(name).info } catch {
                throw AdapterError.baseMismatch(base: base.path, tensor: name, reason: "it has no such weight")
            }
            var conv1D = false
            if base.model.format == .safetensors, let arch, let c = TensorNaming.canonicalName(info.name, arch: arch) {
                conv1D = TensorNaming.ggufOrientation(canonical: c, arch: arch, heads: nil, headsKV: nil) == .transposed
            }
            let expected = conv1D ? (pair.inFeatures, pair.outFeatures) : (pair.outFeatures, pair.inFeatures)
            guard info.shape.count == 2, let m = info.matrixShape, m.rows == expected.0, m.cols == expected.1 else {
                let stored = info.matrixShape.map { "\($0.rows)x\($0.cols)" } ?? "\(info.shape)"
                throw AdapterError.baseMismatch(base: base.path, tensor: info.name,
                                                reason: "it is \(stored) as stored, but the delta needs \(expected.0)x\(expected.1)")
            }
        }
    }
}
