import Foundation
import Testing
@testable import PruneFacts

/// The fact engine's own forward (the one its backward runs through) against transformers' logits.
@Suite struct NetworkForwardTests {
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func logitsMatchTransformers(model: String) throws {
        let net = try FactTest.network(model)
        let ref = try FactTest.tensors(try FactTest.fixture(model, "forward-reference.safetensors"))
        for i in 0..<6 {
            guard let ids = ref["ids.\(i)"], let logits = ref["logits.\(i)"] else { throw FactTest.Failure("reference \(i) missing") }
            let ours = net.logits(ids.map { Int32($0) })
            var worst: Float = 0
            for k in 0..<ours.count { worst = max(worst, abs(ours[k] - logits[k])) }
            #expect(worst < 1e-4, "prompt \(i): max |Δlogit| \(worst)")
        }
    }

    /// The packed batch the optimisation runs (several prompts as consecutive rows, attention and
    /// positions per prompt, the products on 2 threads) gives transformers' logits for every prompt,
    /// and the same bits on 1 and 2 threads.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func packedPromptsMatchTransformersOnAnyThreadCount(model: String) throws {
        let ref = try FactTest.tensors(try FactTest.fixture(model, "forward-reference.safetensors"))
        var ids: [[Int32]] = []
        var expected: [[Float]] = []
        for i in 0..<6 {
            guard let r = ref["ids.\(i)"], let l = ref["logits.\(i)"] else { throw FactTest.Failure("reference \(i) missing") }
            ids.append(r.map { Int32($0) })
            expected.append(l)
        }
        func packed(threads: Int) -> [Float] {
            var net = try! FactTest.network(model)
            net.threads = threads
            let x = ids.flatMap { net.embed($0) }
            let acts = net.run(residual: x, segments: ids.map(\.count), from: 0)
            return net.head(acts.last!.output, positions: Array(0..<ids.reduce(0) { $0 + $1.count })).logits
        }
        let two = packed(threads: 2)
        #expect(two == packed(threads: 1), "packed logits differ between 1 and 2 threads")
        let vocab = try FactTest.network(model).config.vocabularySize
        var row = 0
        for (i, e) in expected.enumerated() {
            let ours = Array(two[(row * vocab)..<((row + ids[i].count) * vocab)])
            var worst: Float = 0
            for k in 0..<ours.count { worst = max(worst, abs(ours[k] - e[k])) }
            #expect(worst < 1e-4, "prompt \(i) packed: max |Δlogit| \(worst)")
            row += ids[i].count
        }
    }
}
