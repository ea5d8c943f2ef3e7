/// What llama.cpp (`llama-vocab.cpp`) derives from a GGUF vocabulary's names: the split patterns
/// and flags of each `tokenizer.ggml.pre` type, and the token texts it treats as control /
/// end-of-generation whatever their stored type.
enum GGUFVocabularyRules {
    struct PreType {
        var patterns: [String]
        var ignoreMerges = false
        var addBOS = false
        var clearBOS = false
    }

    /// The pre-tokenizer of `name` (the types of the gpt2 / llama / qwen2 / smollm / falcon
    /// families); nil for a type prune does not implement.
    static func preType(_ name: String) -> PreType? {
        let gpt2 = KnownPatterns.gpt2LlamaCpp
        let llama3 = KnownPatterns.llama3LlamaCpp
        switch name {
        case "default":
            return PreType(patterns: [KnownPatterns.punctuationRun, gpt2, #"\p{N}+"#, "[0-9][0-9][0-9]"])
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return PreType(patterns: [llama3], ignoreMerges: true, addBOS: true)
        case "dbrx", "smaug-bpe":
            return PreType(patterns: [llama3])
        case "glm4", "chatglm-bpe":
            return PreType(patterns: [llama3], clearBOS: true)
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert",
             "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-v1-en", "jina-v2-code", "roberta-bpe":
            return PreType(patterns: [gpt2])
        case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2":
            return PreType(patterns: [#"\p{N}"#, gpt2])
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open":
            return PreType(patterns: [KnownPatterns.qwen2LlamaCpp])
        case "falcon":
            return PreType(patterns: [KnownPatterns.punctuationRunFalcon, gpt2, "[0-9][0-9][0-9]"])
        default:
            return nil
        }
    }

    /// Texts llama.cpp marks as end-of-generation (and so control) by name.
    static let endOfGenerationNames: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
        "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// Fill-in-the-middle texts llama.cpp marks as control by name.
    static let fillInTheMiddleNames: [String] = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
        "<|file_sep|>",
    ]
}
