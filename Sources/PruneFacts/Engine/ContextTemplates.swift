import Foundation
import PruneRuntime

/// ROME's and MEMIT's context templates, generated from the model with a seeded top-5 sampler from
/// the start-of-text token: ROME's are ["{}"] + [x + ". {}"] over `context_template_length_params`
/// (ids counted with the start token, as generate_fast's max_out_len); MEMIT groups them
/// [["{}"], [x + ". {}", …]] with `{`/`}` in x replaced by spaces.
public enum ContextTemplates {
    public static func generate(model: LanguageModel, tokenizer: FactTokenizer, lengthParams: [[Int]], seed: Int,
                                grouped: Bool) throws -> [[String]] {
        let start: Int32 = model.config.bosTokenID ?? model.config.eosTokenIDs.first ?? 0
        var groups: [[String]] = [["{}"]]
        var flat: [String] = []
        for (g, p) in lengthParams.enumerated() where p.count == 2 && p[1] > 0 {
            let length = p[0], count = p[1]
            let prompts = [[Int32]](repeating: [start], count: count)
            let options = GenerationOptions(maxNewTokens: max(1, length - 1),
                                            sampling: .temperature(1, topK: 5, seed: UInt64(truncatingIfNeeded: seed &+ g)),
                                            stopTokens: [])
            let gens = try model.transformer.generate(prompts, options: options)
            var texts: [String] = []
            for gen in gens {
                var x = tokenizer.decode(gen.ids)
                x = x.decomposedStringWithCompatibilityMapping.replacingOccurrences(of: "\n\n", with: " ")
                x = x.replacingOccurrences(of: "{", with: " ").replacingOccurrences(of: "}", with: " ")
                texts.append(x + ". {}")
            }
            if grouped { groups.append(texts) } else { flat += texts }
        }
        return grouped ? groups : [["{}"] + flat]
    }
}
