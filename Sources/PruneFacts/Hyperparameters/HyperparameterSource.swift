import Foundation
import PruneFormats
import PruneKit

/// Hyperparameter overrides from one place (a `--hparams` file or a manifest line), as a JSON object
/// keyed by the repositories' names.
public struct HyperparameterSource: Sendable, Equatable {
    /// How messages name it: the file path, or `manifest:line`.
    public var name: String
    public var values: JSONNode

    public init(name: String, values: JSONNode) {
        self.name = name
        self.values = values
    }

    /// The keys this source sets that prune reads past (GPU and harness settings, unknown keys).
    public var ignoredKeys: [String] {
        guard case .object(let members) = values else { return [] }
        return members.map(\.key).filter {
            !FactHyperparameters.knownKeys.contains($0) && !FactHyperparameters.templateKeys.contains($0)
        }
    }
}

/// What a model offers the hyperparameters: its architecture and depth (for module templates and
/// layer ranges).
public struct HyperparameterContext: Sendable, Equatable {
    public typealias Architecture = KnownArchitecture
    public var architecture: Architecture
    public var layerCount: Int
    public var contextLength: Int

    public init(architecture: Architecture, layerCount: Int, contextLength: Int) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.contextLength = contextLength
    }

    /// The module names a template may spell for this architecture (Hugging Face names, and the
    /// GGUF names for the same modules), from the family's tensor table.
    func acceptedTemplates(_ key: String) -> [String] {
        let spec = architecture.spec
        let block = "\(spec.hfPrefix)\(spec.hfBlockWord).{}"
        /// The HF module of a GGUF role in block "{}", and its parent (`…self_attn`, `…mlp`).
        func module(_ role: String) -> String? { spec.hfModule(role: role, layer: "{}") }
        func parent(_ role: String) -> String? {
            module(role).map { m in String(m[..<(m.lastIndex(of: ".") ?? m.endIndex)]) }
        }
        func global(_ gguf: String) -> String? { spec.globals.first(where: { $0.value == gguf }).map { spec.hfPrefix + $0.key } }
        switch key {
        case "rewrite_module_tmp": return [module(spec.editedRole), "blk.{}.\(spec.editedRole)"].compactMap { $0 }
        case "layer_module_tmp": return [block, "blk.{}"]
        case "mlp_module_tmp": return [parent(spec.editedRole)].compactMap { $0 }
        case "attn_module_tmp": return [parent("attn_output")].compactMap { $0 }
        case "ln_f_module": return [global("output_norm"), "output_norm"].compactMap { $0 }
        case "lm_head_module": return ["lm_head", "output", global("token_embd"), "token_embd"].compactMap { $0 }
        default: return []
        }
    }
}

extension FactHyperparameters {
    /// These hyperparameters with `source`'s keys applied (checked: types, ranges, templates).
    public func applying(_ source: HyperparameterSource, context: HyperparameterContext) throws -> FactHyperparameters {
        guard case .object(let members) = source.values else {
            throw FactError.unreadableHyperparameters(path: source.name, reason: "not a mapping of keys to values")
        }
        var h = self
        let n = context.layerCount
        func bad(_ key: String, _ what: String) -> FactError { .badHyperparameter(source: source.name, key: key, what: what) }
        func number(_ key: String, _ v: JSONNode) throws -> Double {
            var text: String?
            switch v {
            case .number(let t): text = t
            case .string(let s): text = s.trimmingCharacters(in: .whitespaces)   // YAML 1.1 reads 5e-1 as a string
            default: break
            }
            guard let t = text, let d = Double(t), d.isFinite else { throw bad(key, "must be a finite number") }
            return d
        }
        func integer(_ key: String, _ v: JSONNode) throws -> Int {
            let d = try number(key, v)
            guard d == d.rounded(), abs(d) < 1e15 else { throw bad(key, "must be an integer") }
            return Int(d)
        }
        func positive(_ key: String, _ v: JSONNode) throws -> Double {
            let d = try number(key, v)
            guard d > 0 else { throw bad(key, "must be > 0") }
            return d
        }
        func nonNegative(_ key: String, _ v: JSONNode) throws -> Double {
            let d = try number(key, v)
            guard d >= 0 else { throw bad(key, "must be ≥ 0") }
            return d
        }
        func layer(_ key: String, _ v: JSONNode) throws -> Int {
            let l = try integer(key, v)
            guard l >= 0, l < n else { throw bad(key, "layer \(l) is out of range: the model has layers 0…\(n - 1)") }
            return l
        }
        for m in members {
            let k = m.key, v = m.value
            switch k {
            case "layers":
                let items: [JSONNode]
                if case .array(let a) = v { items = a } else { items = [v] }
                guard !items.isEmpty else { throw bad(k, "needs at least one layer") }
                let ls = try items.map { try layer(k, $0) }
                guard Set(ls).count == ls.count else { throw bad(k, "lists a layer twice") }
                h.layers = ls.sorted()
            case "fact_token":
                guard let s = v.stringValue, let t = FactToken(rawValue: s) else {
                    throw bad(k, "must be one of " + FactToken.allCases.map(\.rawValue).joined(separator: ", "))
                }
                h.factToken = t
            case "v_num_grad_steps":
                let s = try integer(k, v)
                guard s >= 1, s <= 100_000 else { throw bad(k, "must be 1…100000") }
                h.vNumGradSteps = s
            case "v_lr": h.vLR = try positive(k, v)
            case "v_loss_layer":
                let l = try integer(k, v)
                guard l >= 0 else { throw bad(k, "must be ≥ 0") }
                h.vLossLayer = l
            case "v_weight_decay": h.vWeightDecay = try nonNegative(k, v)
            case "clamp_norm_factor": h.clampNormFactor = try positive(k, v)
            case "kl_factor": h.klFactor = try nonNegative(k, v)
            case "mom2_adjustment":
                guard case .bool(let b) = v else { throw bad(k, "must be true or false") }
                h.mom2Adjustment = b
            case "mom2_update_weight": h.mom2UpdateWeight = try nonNegative(k, v)
            case "mom2_n_samples":
                let s = try integer(k, v)
                guard s >= 1 else { throw bad(k, "must be ≥ 1") }
                h.mom2NSamples = s
            case "context_template_length_params":
                guard case .array(let pairs) = v else { throw bad(k, "must be a list of [length, count] pairs") }
                h.contextTemplateLengthParams = try pairs.map { p in
                    guard case .array(let two) = p, two.count == 2 else { throw bad(k, "must be a list of [length, count] pairs") }
                    let a = try integer(k, two[0]), b = try integer(k, two[1])
                    guard a >= 1, a <= 256, b >= 0, b <= 1000 else { throw bad(k, "lengths must be 1…256 and counts 0…1000") }
                    guard a <= context.contextLength else {
                        throw bad(k, "length \(a) is longer than the model's context of \(context.contextLength) tokens")
                    }
                    return [a, b]
                }
            case "context_templates":
                guard case .array(let items) = v, !items.isEmpty else { throw bad(k, "must be a non-empty list of strings with {}") }
                func template(_ t: JSONNode) throws -> String {
                    guard let s = t.stringValue, s.components(separatedBy: "{}").count == 2 else {
                        throw bad(k, "every template must be a string with exactly one {}")
                    }
                    return s
                }
                if items.allSatisfy({ if case .array = $0 { return true }; return false }) {
                    h.contextTemplates = try items.map { g in
                        guard case .array(let ts) = g, !ts.isEmpty else { throw bad(k, "a group of templates is empty") }
                        return try ts.map(template)
                    }
                } else {
                    h.contextTemplates = [try items.map(template)]
                }
            case "stats_doc_tokens":
                let s = try integer(k, v)
                guard s >= 0 else { throw bad(k, "must be ≥ 0") }
                h.statsDocTokens = s
            case "stats_max_tokens":
                let s = try integer(k, v)
                guard s >= 0 else { throw bad(k, "must be ≥ 0") }
                h.statsMaxTokens = s
            case "nullspace_threshold": h.nullspaceThreshold = try nonNegative(k, v)
            case "L2": h.l2 = try nonNegative(k, v)
            case "adam_betas":
                guard case .array(let b) = v, b.count == 2 else { throw bad(k, "must be [β1, β2]") }
                let bs = try b.map { try number(k, $0) }
                guard bs.allSatisfy({ $0 >= 0 && $0 < 1 }) else { throw bad(k, "each β must be in [0, 1)") }
                h.adamBetas = bs
            case "adam_eps": h.adamEpsilon = try positive(k, v)
            case "early_stop_loss": h.earlyStopLoss = try number(k, v)
            case "seed": h.seed = try integer(k, v)
            default:
                if FactHyperparameters.templateKeys.contains(k) {
                    guard let t = v.stringValue else { throw bad(k, "must be a string") }
                    let accepted = context.acceptedTemplates(k)
                    guard accepted.contains(t) else {
                        throw FactError.unknownModuleTemplate(source: source.name, key: k, template: t,
                                                              expected: accepted.first ?? "")
                    }
                }
                // Everything else is read past (HyperparameterSource.ignoredKeys lists it).
            }
        }
        return h
    }
}
