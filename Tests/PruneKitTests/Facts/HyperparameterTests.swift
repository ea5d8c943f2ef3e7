import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats

/// Hyperparameter files as the repositories ship them, defaults scaled to depth, overrides and errors.
@Suite struct HyperparameterTests {
    static let llama = HyperparameterContext(architecture: .llama, layerCount: 32, contextLength: 8192)
    static let tiny = HyperparameterContext(architecture: .gpt2, layerCount: 4, contextLength: 128)

    /// EasyEdit's hparams/MEMIT/llama-7b.yaml, verbatim.
    static let easyEditMemit = """
    alg_name: "MEMIT"
    model_name: "./hugging_cache/llama-2-7b"
    stats_dir: "./data/stats"
    device: 0
    layers: [4, 5, 6, 7, 8]
    clamp_norm_factor: 4
    layer_selection: "all"
    fact_token: "subject_last"
    v_num_grad_steps: 25
    v_lr: 5e-1
    v_loss_layer: 31
    v_weight_decay: 1e-3
    kl_factor: 0.0625
    mom2_adjustment: true
    mom2_update_weight: 15000
    rewrite_module_tmp: "model.layers.{}.mlp.down_proj"
    layer_module_tmp: "model.layers.{}"
    mlp_module_tmp: "model.layers.{}.mlp"
    attn_module_tmp: "model.layers.{}.self_attn"
    ln_f_module: "model.norm"
    lm_head_module: "lm_head"
    mom2_dataset: "wikipedia"
    mom2_n_samples: 100000
    mom2_dtype: "float32"
    model_parallel: false
    """

    @Test func easyEditYAMLAsItIs() throws {
        let src = try HyperparameterFile.parse(bytes: Array(Self.easyEditMemit.utf8), name: "llama-7b.yaml")
        let h = try HyperparameterDefaults.defaults(.memit, context: Self.llama).applying(src, context: Self.llama)
        #expect(h.layers == [4, 5, 6, 7, 8])
        #expect(h.vLR == 0.5)               // "5e-1": a string to YAML 1.1
        #expect(h.vWeightDecay == 1e-3)
        #expect(h.clampNormFactor == 4)
        #expect(h.vNumGradSteps == 25)
        #expect(h.mom2UpdateWeight == 15000)
        #expect(Set(src.ignoredKeys) == ["alg_name", "model_name", "stats_dir", "device", "layer_selection",
                                         "mom2_dataset", "mom2_dtype", "model_parallel"])
    }

    @Test func defaultsScaleWithDepth() {
        // gpt2-xl's ROME layer 17 of 48 → 1 of 4; Llama-3-8B's MEMIT 4…8 of 32 → 4…8.
        #expect(HyperparameterDefaults.defaults(.rome, context: Self.tiny).layers == [1])
        #expect(HyperparameterDefaults.defaults(.memit, context: Self.llama).layers == [4, 5, 6, 7, 8])
        #expect(HyperparameterDefaults.defaults(.rome, context: Self.llama).vWeightDecay == 1e-3)
        let a = HyperparameterDefaults.defaults(.alphaedit, context: HyperparameterContext(architecture: .llama, layerCount: 30, contextLength: 2048))
        #expect(a.layers == [4, 5, 6, 7, 8] && a.vLossLayer == 29 && a.l2 == 10)
    }

    @Test func errorsNameTheSourceAndKey() throws {
        let base = HyperparameterDefaults.defaults(.rome, context: Self.tiny)
        func fails(_ json: String, _ message: String) {
            do {
                let s = try HyperparameterFile.parse(bytes: Array(json.utf8), name: "h.json")
                _ = try base.applying(s, context: Self.tiny)
                Issue.record("\(json) did not fail")
            } catch {
                let text = (error as? LocalizedError)?.errorDescription ?? ""
                #expect(text.hasPrefix("h.json: "), "\(text)")
                #expect(text.contains(message), "\(text)")
            }
        }
        fails(#"{"layers": [4]}"#, "out of range")
        fails(#"{"rewrite_module_tmp": "model.layers.{}.mlp.down_proj"}"#, "unknown module template")
        fails(#"{"v_lr": -1}"#, "must be > 0")
        fails(#"{"context_templates": ["no placeholder"]}"#, "exactly one {}")
        fails(#"{"fact_token": "middle"}"#, "fact_token")
        fails(#"{"layers": [1,"#, "invalid JSON")
    }

    @Test func jsonWithPruneKeys() throws {
        let s = try HyperparameterFile.parse(bytes: Array(#"{"context_templates": [["{}"], ["A. {}", "B. {}"]], "stats_doc_tokens": 64, "stats_max_tokens": 900}"#.utf8), name: "h.json")
        let h = try HyperparameterDefaults.defaults(.memit, context: Self.tiny).applying(s, context: Self.tiny)
        #expect(h.contextTemplates == [["{}"], ["A. {}", "B. {}"]])
        #expect(h.statsDocTokens == 64 && h.statsMaxTokens == 900)
        #expect(s.ignoredKeys.isEmpty)
    }

    @Test func requestSpellings() throws {
        func parse(_ s: String) throws -> FactEditSpec {
            try FactRequestParser.parse(try JSONNodeParser.parse(Array(s.utf8)), manifest: "m.jsonl", line: 3)
        }
        let a = try parse(#"{"kind": "rome", "prompt": "{} is in", "subject": "Paris", "target_new": {"str": " Rome"}}"#)
        #expect(a.requests == [FactRequest(prompt: "{} is in", subject: "Paris", target: "Rome")])
        let b = try parse(#"{"case_id": 7, "requested_rewrite": {"prompt": "{} is in", "subject": "Paris", "relation_id": "P1", "target_new": {"str": "Rome", "id": "Q1"}, "target_true": {"str": "France"}}, "paraphrase_prompts": ["x"]}"#)
        #expect(b.method == .rome && b.requests[0].caseID == 7 && b.requests[0].target == "Rome")
        let c = try parse(#"{"kind": "memit", "requests": [{"prompt": "Paris is in", "subject": "Paris", "target": "Rome"}], "hparams": {"layers": [1]}}"#)
        #expect(c.requests[0].prompt == "{} is in" && c.hparams != nil)
    }
}
