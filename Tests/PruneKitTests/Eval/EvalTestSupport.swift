import Foundation
@testable import PruneEval

/// A character-level stand-in for a language model, for testing the metrics by hand: every Unicode
/// scalar is a token (its value is the id), BOS is 1 when `bos` is set, and the log-probability of a
/// token depends only on the token and on whether the context contains "!" (then `flipped` applies).
final class CharacterModel: EvaluationModel {
    let bos: Bool
    let table: [Character: Double]
    let flipped: [Character: Double]
    let fallback: Double
    /// Every batch of items the evaluation asked for (to check batching).
    var calls: [[ContinuationItem]] = []

    init(bos: Bool = false, table: [Character: Double], flipped: [Character: Double]? = nil, fallback: Double = -2) {
        self.bos = bos
        self.table = table
        self.flipped = flipped ?? table
        self.fallback = fallback
    }

    func tokenize(_ text: String) throws -> [Int] {
        (bos ? [1] : []) + text.unicodeScalars.map { Int($0.value) }
    }

    func detokenize(_ ids: [Int]) throws -> String {
        String(String.UnicodeScalarView(ids.filter { $0 != 1 }.compactMap { Unicode.Scalar(UInt32($0)) }))
    }

    func logProbability(of token: Int, after context: [Int]) -> Double {
        let c = Character(Unicode.Scalar(UInt32(token))!)
        let bang = context.contains(Int(UInt8(ascii: "!")))
        return (bang ? flipped[c] : table[c]) ?? fallback
    }

    func continuationLogProbabilities(_ items: [ContinuationItem]) throws -> [[Double]] {
        calls.append(items)
        return items.map { item in
            var ctx = item.context
            return item.continuation.map { t in
                defer { ctx.append(t) }
                return logProbability(of: t, after: ctx)
            }
        }
    }

    /// Greedy: repeats the last prompt character `maxTokens` times.
    func greedyContinuations(_ prompts: [[Int]], maxTokens: Int) throws -> [[Int]] {
        prompts.map { [Int](repeating: $0.last ?? 32, count: maxTokens) }
    }
}

enum EvalTest {
    static func write(_ text: String, name: String = "input.jsonl") throws -> (dir: String, path: String) {
        let dir = try ReportTest.tempDir()
        let path = dir + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }
}

extension EvalTest {
    static var resources: String { ReportTest.packageRoot.appendingPathComponent("Tests/PruneKitTests/Resources/eval").path }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// A Hugging Face folder whose model is the fixture with the rome-reference ΔW = lam uᵀ of its
    /// first request added (prune-apply, no restraint); the other files are links to the fixture's.
    static func editedFixture(_ fixture: String, in dir: String) throws -> String {
        let src = ReportTest.fixtures + "/" + fixture
        let ref = try ReportTest.fixture(fixture, "rome-reference.json")
        let meta = try json(ref)
        let tensor = meta["edited_tensor"] as! String
        let folder = dir + "/edited-" + fixture
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for f in ["config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "generation_config.json"]
        where FileManager.default.fileExists(atPath: src + "/" + f) {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + f, withDestinationPath: src + "/" + f)
        }
        // ΔW [d_out, d_in] = lam uᵀ; GPT-2's Conv1D stores [in, out], so there U = u and V = lam.
        let st = try ReportTest.fixture(fixture, "rome-reference.safetensors")
        let (u, v) = fixture.hasPrefix("gpt2") ? ("u.0", "lam.0") : ("lam.0", "u.0")
        let manifest = dir + "/rome-\(fixture).jsonl"
        let line = "{\"kind\": \"lowrank\", \"tensor\": \"\(tensor)\", \"u\": {\"file\": \"\(st)\", \"key\": \"\(u)\"}, \"v\": {\"file\": \"\(st)\", \"key\": \"\(v)\"}}\n"
        try Data(line.utf8).write(to: URL(fileURLWithPath: manifest))
        let r = try ReportTest.run(try ReportTest.binary("prune-apply"),
                                   [src + "/model.safetensors", manifest, "--allow-outside-paths", "--restraint", "none", "--no-compress",
                                    "-o", folder + "/model.safetensors", "--sidecar", dir + "/rome-\(fixture).prune"])
        guard r.status == 0 else { throw ReportTest.Failure("prune-apply failed: \(r.stderr)") }
        return folder
    }
}
