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
}
