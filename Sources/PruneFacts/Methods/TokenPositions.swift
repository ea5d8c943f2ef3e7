/// Where a request's subject sits in a tokenized template (ROME's `fact_token` strategies), found by
/// tokenizing the text up to and including the subject, as the reference does.
public enum TokenPositions {
    /// The index in the ids of `FactRequest.fill(template, with: subject)` of the token the key is
    /// read at.
    public static func lookup(_ template: String, subject: String, strategy: FactHyperparameters.FactToken,
                              tokenizer: FactTokenizer) -> Int {
        let prefix: String
        if let r = template.range(of: "{}") { prefix = String(template[..<r.lowerBound]) } else { prefix = template }
        switch strategy {
        case .subjectLast:
            return tokenizer.encode(prefix + subject).count - 1
        case .subjectFirst:
            let before = tokenizer.encode(textBefore(prefix)).count
            return min(before, tokenizer.encode(prefix + subject).count - 1)
        case .subjectFirstAfterLast:
            let full = tokenizer.encode(FactRequest.fill(template, with: subject)).count
            return min(tokenizer.encode(prefix + subject).count, full - 1)
        case .last:
            return tokenizer.encode(FactRequest.fill(template, with: subject)).count - 1
        }
    }

    /// The text before the subject as its tokens are counted: ROME strips the space that ends the
    /// prefix and counts it with the subject (`" " + subject`), since byte-level BPE tokenizers
    /// (GPT-2, SmolLM2, Llama 3) give a lone trailing space a token of its own ("of " → `of`, `Ġ`)
    /// that "of France" folds into `ĠFrance`.
    public static func textBefore(_ prefix: String) -> String {
        prefix.hasSuffix(" ") ? String(prefix.dropLast()) : prefix
    }

    /// The ids of `target` as they follow `filledPrompt` (the ids of prompt + " " + target after
    /// those of the prompt alone).
    public static func targetIDs(filledPrompt: String, target: String, tokenizer: FactTokenizer) -> [Int32] {
        let full = tokenizer.encode(filledPrompt + " " + target)
        let pre = tokenizer.encode(filledPrompt)
        // The reference slices at the prompt's length.
        return Array(full[min(pre.count, full.count)...])
    }
}
