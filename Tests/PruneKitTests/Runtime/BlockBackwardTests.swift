import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// The backward through the blocks above a layer, the final norm and the head
/// (`Transformer+Backward`), against central differences of the forward, on both fixtures: the
/// gradient the fact engine's optimisation follows. L(h) = Σ c·logits over positions p… of a
/// packed batch whose residual after block `layer` is h (fixed random c); its derivative along a
/// direction at one row of each sequence, from the backward and from the forward
/// (`ArithmeticTolerance.centralDifference`, the bound derived there).
@Suite struct BlockBackwardTests {
    nonisolated(unsafe) static var models: [String: LanguageModel] = [:]
    static let lock = NSLock()
    static func model(_ name: String) throws -> LanguageModel {
        lock.lock(); defer { lock.unlock() }
        if let m = models[name] { return m }
        let m = try LanguageModel.load(try RuntimeTest.fixture(name), options: LoadOptions(threads: 2, tokenizer: .skip))
        models[name] = m
        return m
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"], [0, 1, 3])
    func gradientMatchesFiniteDifferences(model name: String, layer: Int) throws {
        try Self.check(try Self.model(name).transformer, layer: layer)
    }

    /// Every family's recipe (QK-norm, sandwich norms, softcapped scores and logits, windows shorter
    /// than the prompt, local RoPE, fused q/k/v and gate/up, GeGLU, biases) on its random-weight model
    /// (FamilyReferenceTests), through every block above the first.
    @Test(arguments: KnownArchitecture.allCases)
    func everyFamilyMatchesFiniteDifferences(_ family: KnownArchitecture) throws {
        let (model, dir) = try FamilyReferenceTests.huggingFace(family.rawValue)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.check(model.transformer, layer: 0)
    }

    static func check(_ t: Transformer, layer: Int) throws {
        let c = t.config, d = c.hiddenSize
        let ids: [[Int32]] = [[1, 57, 300, 912, 44, 1021, 7, 2000, 15, 640], [3, 99, 512, 8]].map { $0.map { $0 % Int32(c.vocabularySize) } }
        // The residual after block `layer` (the trace's output), as the optimisation starts from it.
        let (trace, layout) = try t.run(ids, through: layer)
        let base = trace.output
        var rng = SplitMix(seed: UInt64(layer + 1))
        let positions = (2..<10).map { TokenPosition(sequence: 0, position: $0) } + [TokenPosition(sequence: 1, position: 3)]
        // c on 16 random vocabulary entries a position: every row of the head still takes part in
        // the gradient's path, and the rounding of L (√ of the terms it sums) stays small.
        var coeff = [Float](repeating: 0, count: positions.count * c.vocabularySize)
        for p in positions.indices { for _ in 0..<16 { coeff[p * c.vocabularySize + Int(rng.next() % UInt64(c.vocabularySize))] = rng.nextFloat() } }
        let above = Set((layer + 1)..<c.layerCount)
        func forward(_ h: FloatMatrix) throws -> ForwardResult {
            try t.forward(residual: h, layout: layout, fromBlock: layer + 1, logits: .positions(positions), trace: above)
        }
        let result = try forward(base)
        let dtop = try t.headBackward(FloatMatrix(rows: positions.count, cols: c.vocabularySize, values: coeff), of: result)
        let dh = try t.backward(dtop, blocks: (layer + 1)..<c.layerCount, traces: result.traces, layout: layout)
        let stages = 2 * (c.layerCount - layer - 1) + 1
        let length = ArithmeticTolerance.longestSum(c, positions: 10)
        let noise = ArithmeticTolerance.weightedSumNoise(weights: coeff, scale: ArithmeticTolerance.largestMagnitude(result.logits.values),
                                                         length: length, stages: stages)
        for row in [2, 5, 13] {
            // Along the gradient (scaled to a random vector's length, ≈ √(d/3)) plus a random part: the
            // derivative is then large against the rounding of the differences, and a gradient wrong in
            // any component moves it.
            let grad = Array(dh.values[(row * d)..<((row + 1) * d)])
            let gn = grad.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let toLength = Float((Double(d) / 3).squareRoot() / max(gn, 1e-30))
            let dir = grad.map { $0 * toLength + rng.nextFloat() }
            let analytic = zip(grad, dir).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let fd = ArithmeticTolerance.centralDifference(step: 0.25, noise: noise) { s in
                var h = base
                for j in 0..<d { h.values[row * d + j] += Float(s) * dir[j] }
                let l = try! forward(h).logits.values
                return zip(coeff, l).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let own = ArithmeticTolerance.weightedSumNoise(weights: dir, scale: ArithmeticTolerance.largestMagnitude(grad), length: length, stages: stages)
            let bound = fd.error + own
            #expect(abs(analytic - fd.value) <= bound, "block \(layer), row \(row): backward \(analytic), central difference \(fd.value) (bound \(bound))")
            // Not vacuous: a backward missing a term or a sign moves the derivative by more than a fifth.
            #expect(bound <= 0.2 * abs(fd.value), "row \(row): the bound \(bound) is not tight against \(fd.value)")
        }
        // The backward's bits do not depend on the thread count.
        let one = t.with(threads: 1)
        let r1 = try one.forward(residual: base, layout: layout, fromBlock: layer + 1, logits: .positions(positions), trace: above)
        let d1 = try one.backward(try one.headBackward(FloatMatrix(rows: positions.count, cols: c.vocabularySize, values: coeff), of: r1),
                                  blocks: (layer + 1)..<c.layerCount, traces: r1.traces, layout: layout)
        #expect(RuntimeTest.sameBits(d1, dh))
    }
}
