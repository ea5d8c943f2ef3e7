import Foundation
import Testing
@testable import PruneTokenizers

/// One tokenizer instance shared by many threads gives the same ids as one thread.
@Suite("TokenizerConcurrency") struct TokenizerConcurrencyTests {
    /// Lets the worker threads write their own slots of one result buffer.
    struct Slots: @unchecked Sendable { let buffer: UnsafeMutableBufferPointer<[Int32]> }

    @Test("encoding the stress list and heldout lines from 8 threads at once equals encoding them in order, for each kind of tokenizer")
    func sharedAcrossThreads() throws {
        let texts = try TokTest.allTexts()
        for path in [try TokTest.fixture("gpt2-tiny"), try TokTest.fixture("llama-tiny"),
                     try TokTest.fixture("gpt2-tiny", "model-q8_0.gguf"), try TokTest.fixture("llama-tiny", "model-q8_0.gguf")] {
            let tok = try TokenizerLoader.load(path: path)
            let sequential = texts.map { tok.encode($0) }
            var parallel = [[Int32]](repeating: [], count: texts.count)
            parallel.withUnsafeMutableBufferPointer { buf in
                let slots = Slots(buffer: buf)
                DispatchQueue.concurrentPerform(iterations: 8) { worker in
                    var k = worker
                    while k < texts.count {
                        slots.buffer[k] = tok.encode(texts[k])
                        k += 8
                    }
                }
            }
            #expect(parallel == sequential, "\(path)")
        }
    }
}
