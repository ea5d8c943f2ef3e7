import Foundation
import PruneFormats

/// `prune-audit SIDECAR ADAPTER`: whether a LoRA adapter (a PEFT folder or a llama.cpp .gguf adapter)
/// applies exactly the sidecar's restrained deltas, pair by pair, as each engine applies it.
///
/// The expected pairs are what prune-adapter would write from the sidecar (`AdapterExport.build`: the
/// same names and orientation, with `--base` where the sidecar alone cannot say them, and the
/// adapter's recorded `--rank` cap); each is compared with the adapter's pair of the same name as the
/// matrices the engine adds: llama.cpp's (alpha/rank)·B·A (alpha·1/rank in f32, 1 when alpha is 0),
/// PEFT's (alpha/r)·B·A with rank_pattern, alpha_pattern and use_rslora.
public struct AdapterAudit: Sendable {
    public enum State: String, Sendable {
        /// The applied delta equals the restrained delta within `bound` everywhere.
        case ok
        /// The applied delta differs from the restrained delta by more than the bound.
        case mismatch
        /// The sidecar's tensor has no pair in the adapter.
        case missing
        /// The adapter's pair has no tensor in the sidecar.
        case extra
        /// The pair's shape is not the tensor's (a pair made for another base).
        case shape
    }

    public struct Pair: Sendable {
        /// The adapter's name (GGUF tensor name, or PEFT module path).
        public var target: String
        /// The sidecar tensor (nil for an extra pair).
        public var sidecarTensor: String?
        public var state: State
        /// The adapter's rank (nil when missing) and the restrained delta's (nil when extra).
        public var rank: Int?
        public var expectedRank: Int?
        /// The scale the engine applies to B·A (nil when missing).
        public var scale: Double?
        /// The largest |applied − restrained| and, at that element, the bound (nil unless compared).
        public var worstDifference: Double?
        public var worstBound: Double?
        /// The largest |restrained delta| (the values' scale).
        public var largest: Double?
        /// One phrase: what does not hold (nil when ok).
        public var problem: String?
    }

    public var path: String
    public var format: AdapterFormat
    /// The base SHA-256 the adapter records (`prune.base_sha256`), nil when it records none.
    public var recordedBase: String?
    public var sidecarBase: String
    public var pairs: [Pair]

    public var problems: [String] {
        var p: [String] = []
        if let b = recordedBase, b != sidecarBase {
            p.append("\(path): the adapter was made for another base (prune.base_sha256 \(b), the sidecar's base is \(sidecarBase))")
        }
        for pair in pairs { if let q = pair.problem { p.append("\(path): \(q) (tensor \(pair.target))") } }
        return p
    }

    /// The format of an adapter at `path`, nil when it is none (a model, or a file that cannot be read):
    /// a folder holding adapter_config.json, or a GGUF file whose general.type is "adapter".
    public static func format(of path: String) -> AdapterFormat? {
        guard path != "-" else { return nil }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return nil }
        if isDir.boolValue {
            return FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("adapter_config.json")) ? .peft : nil
        }
        guard let file = try? ModelFile(path: path), case .gguf(let g) = file.header else { return nil }
        return g["general.type"]?.stringValue == "adapter" ? .gguf : nil
    }

    /// One pair as read from the adapter file: B·A in the layer's [out, in] orientation, times `scale`.
    struct Read {
        var a: [Float]      // r × in
        var b: [Float]      // out × r
        var rank: Int
        var inFeatures: Int
        var outFeatures: Int
        var scale: Double
    }

    static func fail(_ path: String, _ reason: String, tensor: String?) -> AuditError {
        .badAdapter(path: path, tensor: tensor, reason: reason)
    }

    /// The adapter's pairs by name, its recorded base hash and `--rank` cap, and the family a llama.cpp
    /// adapter names (`general.architecture`).
    static func read(_ path: String, format: AdapterFormat)
        throws -> (pairs: [String: Read], base: String?, cap: Int?, family: KnownArchitecture?) {
        var out: [String: Read] = [:]
        var meta: [String: String] = [:]
        var family: KnownArchitecture?
        switch format {
        case .peft:
            let folder = URL(fileURLWithPath: path)
            let configURL = folder.appendingPathComponent(PEFTAdapterWriter.configName)
            let weightsURL = folder.appendingPathComponent(PEFTAdapterWriter.weightsName)
            let config: [UInt8]
            do { config = [UInt8](try Data(contentsOf: configURL)) } catch {
                throw fail(path, "cannot read \(PEFTAdapterWriter.configName) (\(error.localizedDescription))", tensor: nil)
            }
            let adapter = try LoRAAdapter.parse(config: config, weights: weightsURL, path: path,
                                                fail: { fail(path, $0, tensor: nil) },
                                                nonFinite: { fail(path, "non-finite values in lora_A or lora_B", tensor: $0) })
            for m in adapter.modules {
                guard !m.isEmbedding else { throw fail(path, "an embedding pair (lora_embedding_A/B): prune adapters hold linear layers only", tensor: m.module) }
                out[m.module] = Read(a: m.a.values, b: m.b.values, rank: m.rank, inFeatures: m.a.shape[1],
                                     outFeatures: m.b.shape[0], scale: m.scaling)
            }
            if let file = try? SafetensorsFile(path: weightsURL.path) {
                for e in file.metadata { meta[e.key] = e.value }
            }
        case .gguf:
            let file = try ModelFile(path: path)
            guard case .gguf(let g) = file.header else { throw fail(path, "not a GGUF file", tensor: nil) }
            guard g["adapter.type"]?.stringValue == "lora" else { throw fail(path, "adapter.type is not lora", tensor: nil) }
            // llama.cpp reads adapter.lora.alpha as f32, 0 when absent (src/llama-adapter.cpp).
            var alpha: Float = 0
            if let v = g["adapter.lora.alpha"] {
                guard case .float32(let x) = v, x.isFinite else { throw fail(path, "adapter.lora.alpha is not a finite FLOAT32", tensor: "adapter.lora.alpha") }
                alpha = x
            }
            var parts: [String: (a: TensorInfo?, b: TensorInfo?)] = [:]
            for t in file.tensors {
                let isA = t.name.hasSuffix(".lora_a"), isB = t.name.hasSuffix(".lora_b")
                guard isA || isB else { throw fail(path, "a tensor that is no .lora_a or .lora_b", tensor: t.name) }
                let name = String(t.name.dropLast(".lora_a".count))
                var entry = parts[name] ?? (nil, nil)
                if isA { entry.a = t } else { entry.b = t }
                parts[name] = entry
            }
            for (name, entry) in parts {
                guard let ta = entry.a, let tb = entry.b else {
                    throw fail(path, "the pair lacks its \(entry.a == nil ? "lora_a" : "lora_b")", tensor: name)
                }
                // lora_a ne [in, r], lora_b ne [r, out] (what llama.cpp checks against the base tensor).
                guard ta.shape.count == 2, tb.shape.count == 2, ta.shape[1] == tb.shape[0], ta.shape[1] > 0 else {
                    throw fail(path, "lora_a ne \(ta.shape) and lora_b ne \(tb.shape) do not share a rank", tensor: name)
                }
                guard TensorCodec.canDecode(ta.type), TensorCodec.canDecode(tb.type) else {
                    throw fail(path, "lora_a or lora_b has a type prune cannot decode (\(ta.type), \(tb.type))", tensor: name)
                }
                let a = try file.withData(for: ta.name) { try TensorCodec.decode($0, as: ta.type, count: ta.elementCount) }
                let b = try file.withData(for: tb.name) { try TensorCodec.decode($0, as: tb.type, count: tb.elementCount) }
                guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw fail(path, "non-finite values in lora_a or lora_b", tensor: name) }
                let r = ta.shape[1]
                // llama_adapter_lora_weight::get_scale: alpha ? adapter_scale * alpha / rank : adapter_scale, in f32.
                let scale = alpha != 0 ? Double(Float(1) * alpha / Float(r)) : 1
                out[name] = Read(a: a, b: b, rank: r, inFeatures: ta.shape[0], outFeatures: tb.shape[1], scale: scale)
            }
            for kv in g.keyValues where kv.key.hasPrefix("prune.") { if let s = kv.value.stringValue { meta[kv.key] = s } }
            family = g["general.architecture"]?.stringValue.flatMap(KnownArchitecture.init(name:))
        }
        return (out, meta["prune.base_sha256"], meta["prune.adapter.rank_cap"].flatMap { Int($0) }, family)
    }

    /// Checks the adapter at `path` against the sidecar; `base` names and orients tensors where the
    /// sidecar cannot (as prune-adapter's --base).
    static func run(adapter path: String, format: AdapterFormat, sidecar: Sidecar, sidecarPath: String,
                    base: String?) throws -> AdapterAudit {
        // A llama.cpp adapter names its base's family (general.architecture): where the sidecar's
        // names fit several families, that is the one the adapter was made for.
        let (found, recordedBase, cap, family) = try read(path, format: format)
        let expected = try AdapterExport.build(sidecar: sidecar, sidecarPath: sidecarPath, format: format,
                                               base: try base.map { try AdapterBase.open($0) }, rank: cap, family: family)
        var pairs: [Pair] = []
        for e in expected.pairs {
            var pair = Pair(target: e.target, sidecarTensor: e.sidecarTensor, state: .ok, expectedRank: e.rank)
            guard let got = found[e.target] else {
                pair.state = .missing
                pair.problem = "the sidecar's tensor \(e.sidecarTensor) has no pair in the adapter"
                pairs.append(pair)
                continue
            }
            pair.rank = got.rank
            pair.scale = got.scale
            guard got.inFeatures == e.inFeatures, got.outFeatures == e.outFeatures else {
                pair.state = .shape
                pair.problem = "the pair is \(got.outFeatures)x\(got.inFeatures) ([out, in]), the sidecar's tensor \(e.sidecarTensor) is \(e.outFeatures)x\(e.inFeatures): an adapter of another base"
                pairs.append(pair)
                continue
            }
            let c = compare(got, e)
            pair.worstDifference = c.difference
            pair.worstBound = c.bound
            pair.largest = c.largest
            if !(c.excess <= 0) {
                pair.state = .mismatch
                pair.problem = "the delta the engine applies differs from the restrained delta by \(DiffText.format(c.difference)) at row \(c.row), column \(c.col), beyond the f32 bound \(DiffText.format(c.bound))"
            }
            pairs.append(pair)
        }
        let names = Set(expected.pairs.map(\.target))
        for name in found.keys.sorted() where !names.contains(name) {
            let r = found[name]
            pairs.append(Pair(target: name, sidecarTensor: nil, state: .extra, rank: r?.rank, scale: r?.scale,
                              problem: "the adapter adapts a weight the sidecar's restrained deltas do not change"))
        }
        return AdapterAudit(path: path, format: format, recordedBase: recordedBase, sidecarBase: sidecar.model.baseSHA256, pairs: pairs)
    }

    /// The applied delta s·B·A against the expected pair's B'·A' (both [out, in], in float64).
    ///
    /// Tolerance, per element: both pairs are f32 roundings of float64 factors of the same restrained
    /// delta ΔW̄ (the adapter's written by prune-adapter, the expected one recomputed here from the
    /// sidecar's f32 factors by the same float64 SVD, whose result differs between machines only in
    /// float64 rounding, about 2⁻⁵² of ‖ΔW̄‖). Each factor element carries a relative error of at most
    /// u = 2⁻²⁴, so each term b·a of a product carries at most 2u + u², and an element of the product,
    /// summed here in float64, is within (2u + u²)·(|B||A|)ᵢⱼ of the exact product of the unrounded
    /// factors. The engine's scale s is itself an f32 rounding (llama.cpp's alpha/rank; PEFT's alpha/r
    /// is exact for prune's adapters), one more u on its side. So
    ///
    ///     |s·B·A − B'·A'|ᵢⱼ ≤ 3u·s·(|B||A|)ᵢⱼ + 2u·(|B'||A'|)ᵢⱼ + (float64 terms)
    ///
    /// and the check uses 4u on both sides (covering the u² terms) plus 2⁻⁴⁰·max|ΔW̄| for the float64
    /// SVD. A changed factor element moves its row or column of B·A by its own relative change times
    /// |b||a|, far above 4u unless the change is itself an f32 rounding.
    static func compare(_ got: Read, _ e: AdapterPair) -> (excess: Double, difference: Double, bound: Double, largest: Double, row: Int, col: Int) {
        let rows = e.outFeatures, cols = e.inFeatures
        let u = 0x1p-24
        // One row at a time (a weight of a large model is too big to hold four float64 copies of).
        func row(_ i: Int, _ b: [Float], _ a: [Float], rank r: Int, scale s: Double, _ out: inout [Double], _ outAbs: inout [Double]) {
            for j in 0..<cols { out[j] = 0; outAbs[j] = 0 }
            for k in 0..<r {
                let bik = Double(b[i * r + k]) * s
                guard bik != 0 else { continue }
                for j in 0..<cols {
                    let x = bik * Double(a[k * cols + j])
                    out[j] += x
                    outAbs[j] += Swift.abs(x)
                }
            }
        }
        var applied = [Double](repeating: 0, count: cols), appliedAbs = applied, wanted = applied, wantedAbs = applied
        var largest = 0.0
        for i in 0..<rows {
            // The expected pair carries `folded` (r/R in a llama.cpp adapter): the delta is B'·A'/folded.
            row(i, e.b, e.a, rank: e.rank, scale: 1 / e.folded, &wanted, &wantedAbs)
            for x in wanted { largest = max(largest, Swift.abs(x)) }
        }
        var worst = (excess: -Double.infinity, difference: 0.0, bound: 0.0, row: 0, col: 0)
        for i in 0..<rows {
            row(i, got.b, got.a, rank: got.rank, scale: got.scale, &applied, &appliedAbs)
            row(i, e.b, e.a, rank: e.rank, scale: 1 / e.folded, &wanted, &wantedAbs)
            for j in 0..<cols {
                let d = Swift.abs(applied[j] - wanted[j])
                let bound = 4 * u * (appliedAbs[j] + wantedAbs[j]) + 0x1p-40 * largest
                if d - bound > worst.excess { worst = (d - bound, d, bound, i, j) }
            }
        }
        return (worst.excess, worst.difference, worst.bound, largest, worst.row, worst.col)
    }
}
