import PruneFormats

/// The published hyperparameters of the ROME, MEMIT and AlphaEdit repositories, scaled to a model's
/// depth: each family names its reference (`ArchitectureSpec.editingReference`): GPT-2 models take
/// those of gpt2-xl (48 layers), every other family those of Llama-3-8B (32 layers; EasyEdit's
/// Mistral-7B and Qwen2.5-7B configurations use the same layers), with every layer index scaled by
/// n/48 or n/32 and rounded.
public enum HyperparameterDefaults {
    /// The reference depth of the published configuration for an architecture.
    static func referenceDepth(_ a: HyperparameterContext.Architecture) -> Int { a.spec.editingReference.depth }

    /// A published layer index scaled to `n` layers.
    static func scaled(_ layer: Int, _ a: HyperparameterContext.Architecture, _ n: Int) -> Int {
        let x = (Double(layer) * Double(n) / Double(referenceDepth(a))).rounded()
        return min(max(Int(x), 0), n - 1)
    }

    public static func defaults(_ method: FactMethod, context: HyperparameterContext) -> FactHyperparameters {
        let a = context.architecture, n = context.layerCount
        let gpt2 = a.spec.editingReference == .gpt2XL
        let layers: [Int]
        switch method {
        case .rome:
            // ROME gpt2-xl: layer 17; Llama-3-8B (AlphaEdit's and EasyEdit's ROME): layer 5.
            layers = [scaled(gpt2 ? 17 : 5, a, n)]
        case .memit, .alphaedit:
            // MEMIT/AlphaEdit gpt2-xl: 13…17; Llama-3-8B: 4…8.
            let lo = scaled(gpt2 ? 13 : 4, a, n), hi = scaled(gpt2 ? 17 : 8, a, n)
            layers = Array(lo...max(lo, hi))
        }
        var h = FactHyperparameters(
            layers: layers, factToken: .subjectLast,
            vNumGradSteps: 20, vLR: 0.5, vLossLayer: n - 1, vWeightDecay: 0.5, clampNormFactor: 4,
            klFactor: 0.0625, mom2Adjustment: true, mom2UpdateWeight: 0, mom2NSamples: 100_000,
            contextTemplateLengthParams: [[5, 10], [10, 10]], contextTemplates: nil,
            statsDocTokens: min(context.contextLength, 4096), statsMaxTokens: 0,
            nullspaceThreshold: 2e-2, l2: 10)
        switch (method, gpt2) {
        case (.rome, true): break
        case (.rome, false):
            h.vNumGradSteps = 25
            h.vWeightDecay = 1e-3
        case (.memit, true), (.alphaedit, true):
            h.clampNormFactor = 0.75
            h.mom2UpdateWeight = 20_000
        case (.memit, false), (.alphaedit, false):
            h.clampNormFactor = 0.75
            h.vNumGradSteps = 25
            h.vLR = 0.1
            h.mom2UpdateWeight = 15_000
        }
        if method != .rome {
            // MEMIT's templates: "{}" and five generated of length 10.
            h.contextTemplateLengthParams = [[10, 5]]
        }
        return h
    }
}
