import PruneFormats
import PruneRuntime
import PruneTokenizers

/// The `--json` document of prune-generate:
/// `{"prompts": [{"prompt", "ids", "text", "steps": [{"id", "logprob", "top": [{"id", "logprob"}, …]}, …]}, …]}`.
///
/// `ids` are the prompt's ids, `text` the generated ids decoded on their own as the tokenizer
/// decodes them (a stop token included, as its text), `steps` one entry per generated token with its
/// log-probability under the full softmax of the logits, and `top` the most likely tokens at that step.
enum GenerationJSON {
    static func document(_ results: [(prompt: String, generation: Generation)], tokenizer: Tokenizer) -> JSONNode {
        .object([JSONNodeMember(key: "prompts", value: .array(results.map { entry($0.prompt, $0.generation, tokenizer) }))])
    }

    static func entry(_ prompt: String, _ g: Generation, _ tokenizer: Tokenizer) -> JSONNode {
        .object([
            JSONNodeMember(key: "prompt", value: .string(prompt)),
            JSONNodeMember(key: "ids", value: .array(g.prompt.map { JSONNode.int($0) })),
            JSONNodeMember(key: "text", value: .string(tokenizer.decode(g.ids))),
            JSONNodeMember(key: "steps", value: .array(g.steps.map(step))),
        ])
    }

    static func step(_ s: GeneratedStep) -> JSONNode {
        .object([
            JSONNodeMember(key: "id", value: .int(s.id)),
            JSONNodeMember(key: "logprob", value: number(s.logprob)),
            JSONNodeMember(key: "top", value: .array(s.top.map {
                .object([JSONNodeMember(key: "id", value: .int($0.id)), JSONNodeMember(key: "logprob", value: number($0.logprob))])
            })),
        ])
    }

    /// The shortest decimal that reads back as the same f32; null when not finite.
    static func number(_ v: Float) -> JSONNode { v.isFinite ? .number("\(v)") : .null }
}
