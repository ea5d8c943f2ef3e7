import Foundation
import Testing
@testable import PruneFacts
import PruneRuntime

/// The statistics' model hash keeps its values now that the fact engine runs the runtime's
/// transformer: cached statistics and prune-stats files made before still match. The expected
/// values are those the engine's own f32 network gave (prune-stats of commit 66e42d5 on the fixtures).
@Suite struct StatisticsIdentityTests {
    static let expected: [(file: String, model: String, layer: Int, hash: String)] = [
        ("", "gpt2-tiny", 1, "7c8ef52604b9828ef7aebb82fde289046b207687c86b5f633e7938a96443f981"),
        ("", "gpt2-tiny", 3, "64edd5833935a94373ee3faece5f6c8183a13c687e2924746650d157f5b6b67a"),
        ("", "llama-tiny", 1, "624be6b5108c7a5cd7e70c4b647eec59db1f1233cc54db48636f69b550d5618e"),
        ("", "llama-tiny", 3, "65fb5d4b5e01e8ede023b4a48f9762824911f607f222986c058de219a79ffc99"),
        ("model-q8_0.gguf", "gpt2-tiny", 1, "639efb8c8c8def950995dba6b40a4c95a80d7dcb2bb9860fe0df63192c770804"),
        ("model-q8_0.gguf", "llama-tiny", 1, "9ca05e0a0d6ad99eb80b4e4218d31c5421efd61e3be23054d0915513ee4269a0"),
    ]

    @Test(arguments: 0..<6)
    func modelHashKeepsItsValue(index: Int) throws {
        let e = Self.expected[index]
        let model = try LanguageModel.load(try FactTest.fixture(e.model, e.file), options: LoadOptions(threads: 2, tokenizer: .skip))
        #expect(try StatisticsIdentity.modelHash(FactModel(model), layer: e.layer) == e.hash, "\(e.model) \(e.file) layer \(e.layer)")
    }
}
