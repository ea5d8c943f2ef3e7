import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// Fixtures, reference values and helpers of the runtime tests.
enum RuntimeTest {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixtures: String { TestEnvironment.fixtures }

    static let models = ["gpt2-tiny", "llama-tiny"]

    /// A fixture path; throws (so the test fails) when it is absent.
    static func fixture(_ model: String, _ file: String = "") throws -> String { try TestEnvironment.fixture(model, file) }

    /// A fresh, uniquely named temporary directory.
    static func tempDir() throws -> String { try TestEnvironment.tempDir("runtime") }

    /// Runs `python3 Tests/scripts/<script> args…`; throws with its stderr when it fails.
    static func runPython(_ script: String, _ args: [String]) throws { try TestProcess.python(script, args) }

    /// forward-reference.{json,safetensors} of a fixture (transformers, f32).
    struct Reference {
        struct Prompt: Decodable {
            let text: String
            let ids: [Int32]
            let greedy_ids: [Int32]
        }
        struct Document: Decodable { let prompts: [Prompt] }
        let prompts: [Prompt]
        let tensors: SafetensorsFile

        init(model: String) throws {
            let json = try Data(contentsOf: URL(fileURLWithPath: try fixture(model, "forward-reference.json")))
            prompts = try JSONDecoder().decode(Document.self, from: json).prompts
            tensors = try SafetensorsFile(path: try fixture(model, "forward-reference.safetensors"))
        }

        func matrix(_ name: String) throws -> FloatMatrix {
            guard let info = tensors.info(named: name), info.shape.count == 2 else {
                throw TestFailure("reference tensor \(name) missing")
            }
            let v = try tensors.withData(for: name) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
            return FloatMatrix(rows: info.shape[0], cols: info.shape[1], values: v)
        }

        func logits(_ i: Int) throws -> FloatMatrix { try matrix("logits.\(i)") }
        func hidden(_ i: Int, _ l: Int) throws -> FloatMatrix { try matrix("hidden.\(i).\(l)") }
        var ids: [[Int32]] { prompts.map(\.ids) }
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count) values")
        var m: Float = 0
        for i in a.indices {
            let d = abs(a[i] - b[i])
            if !(d <= m) { m = d.isNaN ? .infinity : d }
        }
        return m
    }

    /// Whether two matrices hold the same bits.
    static func sameBits(_ a: FloatMatrix, _ b: FloatMatrix) -> Bool {
        a.rows == b.rows && a.cols == b.cols && zip(a.values, b.values).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// Logits at every position and the residual stream after the embedding and every block (the
    /// last one with the final norm applied, as transformers reports it), per prompt.
    struct Run {
        var logits: [FloatMatrix]
        var hidden: [[FloatMatrix]]
    }

    static func run(_ model: LanguageModel, _ prompts: [[Int32]]) throws -> Run {
        let t = model.transformer
        let hooks = ForwardHooks()
        hooks.captureResidualStream(layers: t.config.layerCount - 1)
        hooks.capture(.finalNorm)
        let r = try t.forward(prompts, logits: .all, hooks: hooks)
        var hidden: [[FloatMatrix]] = []
        let sites = [HookSite.embedding] + (0..<(t.config.layerCount - 1)).map { HookSite.blockOutput(layer: $0) } + [.finalNorm]
        for (s, seq) in r.layout.sequences.enumerated() {
            _ = s
            hidden.append(try sites.map { site in
                guard let m = hooks.captured(site) else { throw TestFailure("no capture at \(site)") }
                return m.rows(seq.firstRow ..< seq.firstRow + seq.count)
            })
        }
        return Run(logits: (0..<prompts.count).map { r.logits(sequence: $0) }, hidden: hidden)
    }
}
