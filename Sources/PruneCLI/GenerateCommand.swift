import ArgumentParser
import Foundation
import PruneFormats
import PruneRuntime
import PruneTokenizers

private let generateAbstract = "Complete prompts with the model: greedy by default, or sampled with a seed."
private let generateDiscussion = """
    MODEL is a Hugging Face model folder (config.json, model.safetensors or sharded safetensors, \
    tokenizer.json or tokenizer.model) or a GGUF file, plain or zstd-compressed. Each PROMPT is \
    tokenized as the model's own tokenizer does (BOS where the model adds it) and continued until \
    an end token, --max-tokens new tokens, or the end of the context. Each prompt is completed on \
    its own: its output does not depend on the other prompts nor on the thread count. The text \
    (the prompt, then its continuation) streams to standard output on a terminal. --json prints one \
    object: {"prompts": [{"prompt", "ids", "text", "steps": [{"id", "logprob", "top": [{"id", \
    "logprob"}, ...]}, ...]}, ...]} with log-probabilities of the full softmax of the logits.
    """

/// Arguments of `prune generate` / `prune-generate`.
public struct GenerateArguments: ParsableArguments {
    @Argument(help: "The model: a Hugging Face folder or a GGUF file (.gguf, .gguf.zst).")
    var model: String
    @Argument(help: "The prompts to complete, each on its own.")
    var prompts: [String] = []
    @Option(name: .customLong("max-tokens"), help: "New tokens per prompt at most.")
    var maxTokens: Int = 20
    @Option(help: "Sample from softmax(logits / T) instead of taking the most likely token (0: greedy).")
    var temperature: Float?
    @Option(name: .customLong("top-k"), help: "When sampling, draw only among the K most likely tokens.")
    var topK: Int?
    @Option(help: "Seed of the sampler (default 0): the same seed gives the same tokens.")
    var seed: UInt64?
    @Option(help: "With --json, how many of the most likely tokens each step records (default 5).")
    var top: Int?
    @Flag(help: "Print one JSON object: {\"prompts\": [{\"prompt\", \"ids\", \"text\", \"steps\"}, ...]}.")
    var json = false
    @Option(help: "Threads of the forward pass (default: every core; more are capped at the cores; the output does not depend on it).")
    var threads: Int?
    @Option(help: "What the linear layers multiply the weights with: f32 (default, exact) or q8 (activations quantized to 8 bits per block, integer dot products on Q4_K, Q6_K, Q8_0, Q5_0, Q4_0, Q4_1, Q5_1 weights: faster, slightly different output).")
    var activations: ActivationPrecision = .f32

    @Flag(help: "When done, print to standard error the load time, the prompts' passes (up to each first new token) and the time per generated token after that; the output does not change.")
    var timings = false

    public init() {}

    public func validate() throws {
        guard !prompts.isEmpty else { throw ValidationError("give at least one PROMPT") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be at least 0") }
        if let t = temperature { guard t.isFinite, t >= 0 else { throw ValidationError("--temperature must be a number ≥ 0") } }
        if let k = topK { guard k >= 1 else { throw ValidationError("--top-k must be at least 1") } }
        if topK != nil || seed != nil {
            guard temperature != nil else { throw ValidationError("--top-k and --seed need --temperature (sampling)") }
        }
        if let n = top {
            guard json else { throw ValidationError("--top applies to the --json output") }
            guard n >= 0 else { throw ValidationError("--top must be at least 0") }
        }
        if let n = threads { guard n >= 1 else { throw ValidationError("--threads must be at least 1") } }
    }

    var sampling: Sampling {
        guard let t = temperature, t > 0 else { return .greedy }
        return .temperature(t, topK: topK, seed: seed ?? 0)
    }

    func run() throws {
        BLASReexec.restartIfUseful()
        try CLIOutput.running("prune-generate") {
            try ArgumentText.refuseInvalidUTF8(prompts, what: "prompt")
            var clock = GenerationClock()
            let load = LoadOptions(threads: ThreadCount.resolved(threads), tokenizer: .required, activations: activations)
            let lm = try LanguageModel.load(model, options: load)
            let tokenizer = try lm.requireTokenizer()
            let context = lm.config.contextLength
            var encoded: [[Int32]] = []
            for (i, text) in prompts.enumerated() {
                let ids = tokenizer.encode(text, addSpecialTokens: true)
                guard !ids.isEmpty else { throw GenerateError.emptyPrompt(model: model, prompt: i + 1) }
                guard ids.count <= context else {
                    throw GenerateError.promptTooLong(model: model, prompt: i + 1, tokens: ids.count, context: context)
                }
                encoded.append(ids)
            }
            let options = GenerationOptions(maxNewTokens: maxTokens, sampling: sampling, stopTokens: lm.stopTokens,
                                            topLogprobs: json ? (top ?? 5) : 0)
            clock.loaded()
            /// Prompt `i` (0-based) continued; logits that are not finite name the model and the prompt.
            func generate(_ i: Int, onStep: ((Int, GeneratedStep) -> Void)? = nil) throws -> Generation {
                clock.promptStarts(tokens: encoded[i].count)
                defer { clock.promptEnds() }
                do {
                    return try lm.transformer.generate([encoded[i]], options: options) { s, step in
                        clock.step()
                        onStep?(s, step)
                    }[0]
                } catch RuntimeError.nonFiniteLogits(_, let position) {
                    throw GenerateError.nonFiniteLogits(model: model, prompt: i + 1, position: position)
                }
            }
            if json {
                var results: [(prompt: String, generation: Generation)] = []
                for (i, text) in prompts.enumerated() { results.append((prompt: text, generation: try generate(i))) }
                CLIOutput.out(GenerationJSON.document(results, tokenizer: tokenizer).serialized() + "\n")
                if timings { CLIOutput.err("prune-generate: " + clock.line) }
                return
            }
            let streaming = CLIOutput.isTerminal(1)
            for (i, (text, ids)) in zip(prompts, encoded).enumerated() {
                var streamer = TextStreamer(tokenizer: tokenizer, prompt: ids, stopTokens: options.stopTokens ?? [])
                if streaming { CLIOutput.out(text) }
                let g = try generate(i) { _, step in
                    if streaming { CLIOutput.out(streamer.append(step.id)) }
                }
                if streaming {
                    CLIOutput.out(streamer.finish() + "\n")
                } else {
                    var whole = TextStreamer(tokenizer: tokenizer, prompt: ids, stopTokens: options.stopTokens ?? [])
                    var out = text
                    for id in g.ids { out += whole.append(id) }
                    CLIOutput.out(out + whole.finish() + "\n")
                }
            }
            if timings { CLIOutput.err("prune-generate: " + clock.line) }
        }
    }
}

/// `prune generate MODEL PROMPT…`.
public struct GenerateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "generate", abstract: generateAbstract,
                                                           discussion: generateDiscussion)
    @OptionGroup var options: GenerateArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-generate MODEL PROMPT…`.
public struct GenerateTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-generate", abstract: generateAbstract,
                                                           discussion: generateDiscussion, version: PruneVersion.string)
    @OptionGroup var options: GenerateArguments
    public init() {}
    public func run() throws { try options.run() }
}
