import Foundation

/// What every contender runs (written to a JSON file the Python baselines read too).
struct Work: Codable {
    var threads: Int
    var reps: Int
    /// The prompt batch: processed in one forward pass, logits of each last position.
    var prompts: [[Int32]]
    /// The generation prompt, then `gen_tokens` greedy tokens with the KV cache.
    var gen_prompt: [Int32]
    var gen_tokens: Int

    /// Deterministic token ids in 3 ..< vocabulary (clear of the fixtures' special tokens 0–2).
    static func make(vocabulary: Int, prompts: Int, length: Int, genTokens: Int, threads: Int, reps: Int) -> Work {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(vocabulary)
        func next() -> Int32 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Int32(3 + Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % (vocabulary - 3))
        }
        let batch = (0..<prompts).map { _ in (0..<length).map { _ in next() } }
        let gen = (0..<length).map { _ in next() }
        return Work(threads: threads, reps: reps, prompts: batch, gen_prompt: gen, gen_tokens: genTokens)
    }

    func write(to path: String) throws {
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> Work {
        try JSONDecoder().decode(Work.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    var promptTokens: Int { prompts.reduce(0) { $0 + $1.count } }
}

/// What a contender reports (the Python scripts print the same keys).
struct Timing: Codable {
    var prompt_seconds: Double
    var gen_seconds: Double
    var gen_steps: Int
    var gen_ids: [Int32]
    var threads: Int
    var version: String?
    var load_seconds: Double?
}
