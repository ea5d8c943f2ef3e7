import Foundation
import PruneFormats
import PruneKit

/// The hyperparameters of ROME, MEMIT and AlphaEdit under the names their repositories use
/// (`layers`, `v_num_grad_steps`, …), plus prune's own (`context_templates`, `stats_doc_tokens`,
/// `stats_max_tokens`). Defaults come from `HyperparameterDefaults`; a `--hparams` file and a
/// line's `"hparams"` override them key by key (`applying(_:source:architecture:)`).
public struct FactHyperparameters: Sendable, Equatable {
    /// The edited layers (ROME: one; MEMIT/AlphaEdit: the range, z is found at the last).
    public var layers: [Int]
    /// Which token of the prompt the key and the optimised vector sit at.
    public var factToken: FactToken
    public var vNumGradSteps: Int
    public var vLR: Double
    /// Where the loss is read; prune always reads it at the model's output (see prune-facts(7)).
    public var vLossLayer: Int
    public var vWeightDecay: Double
    public var clampNormFactor: Double
    public var klFactor: Double
    /// Whether u (ROME) uses C⁻¹; MEMIT and AlphaEdit always use C.
    public var mom2Adjustment: Bool
    /// MEMIT's λ in (λC + KKᵀ).
    public var mom2UpdateWeight: Double
    /// Statistics documents read at most.
    public var mom2NSamples: Int
    /// ROME's generated context templates: [[length, count], …].
    public var contextTemplateLengthParams: [[Int]]
    /// Explicit context templates (each with `{}`), grouped as MEMIT groups them; nil = generate.
    public var contextTemplates: [[String]]?
    /// Each statistics document is cut to its first N tokens (0 = the model's context length).
    public var statsDocTokens: Int
    /// Stop reading statistics after the document that brings the count to ≥ N (0 = no cap).
    public var statsMaxTokens: Int
    /// AlphaEdit: eigenvalues of C below this span the preserved null space.
    public var nullspaceThreshold: Double
    /// AlphaEdit: the ridge term of its solve.
    public var l2: Double
    /// Adam's moments and ε (torch defaults) and the early-stopping loss of the repositories.
    public var adamBetas: [Double] = [0.9, 0.999]
    public var adamEpsilon: Double = 1e-8
    public var earlyStopLoss: Double = 5e-2
    /// Seed of the context-template sampler.
    public var seed: Int = 0

    public enum FactToken: String, Sendable, Equatable, CaseIterable {
        case subjectLast = "subject_last"
        case subjectFirst = "subject_first"
        case subjectFirstAfterLast = "subject_first_after_last"
        case last
    }

    /// Keys that only matter on a GPU or in the original repositories' harness: read past, listed once.
    public static let ignoredKeys: Set<String> = [
        "alg_name", "model_name", "stats_dir", "device", "model_parallel", "fp16", "bf16", "P_loc",
        "mom2_dataset", "mom2_dtype", "batch_size", "max_length", "layer_selection", "use_chat_template",
        "sample_with_context", "results_dir", "archive", "cache_dir",
    ]
    /// Module-template keys, checked against the model's own module names.
    public static let templateKeys = ["rewrite_module_tmp", "layer_module_tmp", "mlp_module_tmp",
                                      "attn_module_tmp", "ln_f_module", "lm_head_module"]

    /// The keys this struct reads.
    public static let knownKeys: Set<String> = [
        "layers", "fact_token", "v_num_grad_steps", "v_lr", "v_loss_layer", "v_weight_decay",
        "clamp_norm_factor", "kl_factor", "mom2_adjustment", "mom2_update_weight", "mom2_n_samples",
        "context_template_length_params", "context_templates", "stats_doc_tokens", "stats_max_tokens",
        "nullspace_threshold", "L2", "adam_betas", "adam_eps", "early_stop_loss", "seed",
    ]

    /// The JSON form stored in sidecars (sorted keys, repository names).
    public var json: JSONNode {
        var m: [(String, JSONNode)] = [
            ("L2", .double(l2)),
            ("adam_betas", .array(adamBetas.map(JSONNode.double))),
            ("adam_eps", .double(adamEpsilon)),
            ("clamp_norm_factor", .double(clampNormFactor)),
            ("context_template_length_params", .array(contextTemplateLengthParams.map { .array($0.map(JSONNode.int)) })),
        ]
        if let t = contextTemplates { m.append(("context_templates", .array(t.map { .array($0.map(JSONNode.string)) }))) }
        m += [
            ("early_stop_loss", .double(earlyStopLoss)),
            ("fact_token", .string(factToken.rawValue)),
            ("kl_factor", .double(klFactor)),
            ("layers", .array(layers.map(JSONNode.int))),
            ("mom2_adjustment", .bool(mom2Adjustment)),
            ("mom2_n_samples", .int(mom2NSamples)),
            ("mom2_update_weight", .double(mom2UpdateWeight)),
            ("nullspace_threshold", .double(nullspaceThreshold)),
            ("seed", .int(seed)),
            ("stats_doc_tokens", .int(statsDocTokens)),
            ("stats_max_tokens", .int(statsMaxTokens)),
            ("v_loss_layer", .int(vLossLayer)),
            ("v_lr", .double(vLR)),
            ("v_num_grad_steps", .int(vNumGradSteps)),
            ("v_weight_decay", .double(vWeightDecay)),
        ]
        return .object(m.map { JSONNodeMember(key: $0.0, value: $0.1) })
    }
}
