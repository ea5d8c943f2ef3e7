import Foundation
import Testing
@testable import PruneEval
@testable import PruneFormats
@testable import PruneKit
@testable import PruneRuntime

@Suite("EvalEditedTensor") struct EvalEditedTensorTests {
    /// The samples' rank-2 edit of transformer.h.1.mlp.c_proj.weight applied to gpt2-tiny (the
    /// samples' model is the fixture's, same SHA-256): its sidecar and the edited model.
    static func applied(in dir: String) throws -> (sidecar: Sidecar, edited: String) {
        let base = try ReportTest.fixture("gpt2-tiny", "model.safetensors")
        var options = ApplyOptions()
        options.restraint = .none
        options.output.compress = false
        options.threads = 1
        let edited = dir + "/edited.safetensors"
        let manifest = ReportTest.packageRoot.appendingPathComponent("samples/edits.jsonl").path
        _ = try Apply.run(ApplyRequest(model: base, manifest: manifest, output: .file(edited), sidecar: dir + "/e.prune",
                                       options: options))
        return (try Sidecar.read(path: dir + "/e.prune"), edited)
    }

    /// The bug of issue 10: a second chain located its tensors after the first chain's arms had
    /// installed their edited weights in the runtime, and the live matrix was no longer W₀.
    @Test("locate finds GPT-2's Conv1D mlpDown transposed, also after edited weights were installed in its place")
    func locateAfterInstall() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (sidecar, edited) = try Self.applied(in: dir)
        let record = try #require(sidecar.tensors.first)
        #expect(record.name == "transformer.h.1.mlp.c_proj.weight")
        // As the file stores it (prune-inspect, README): [1024, 256]; the runtime holds [out 256, in 1024].
        #expect(record.rows == 1024 && record.cols == 256)

        let model = try EvaluationModelLoader.load(ReportTest.fixtures + "/gpt2-tiny", threads: 1)
        let weights = model.transformer.weights
        let file = try ModelFile(path: try ReportTest.fixture("gpt2-tiny", "model.safetensors"))
        let t = try EditedTensor.locate(record, file: file, weights: weights)
        #expect(t.role == .mlpDown && t.layer == 1 && t.transposed)
        #expect(t.w0.count == 1024 * 256)

        // An arm's weights go into the runtime (W₀ + ΔW, stored orientation, here the file's own edit).
        let editedFile = try ModelFile(path: edited)
        let info = try #require(editedFile.info(named: record.name))
        let editedValues = try editedFile.withData(for: record.name) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
        #expect(editedValues != t.w0)
        try t.install(editedValues, in: weights)
        #expect(try weights.values(.mlpDown, layer: 1).values == EditedTensor.transpose(editedValues, rows: 1024, cols: 256))

        // Locating again (the next chain) still finds the tensor, by the weights the model was loaded with.
        let again = try EditedTensor.locate(record, file: file, weights: weights)
        #expect(again.role == .mlpDown && again.layer == 1 && again.transposed && again.w0 == t.w0)
        // The live weights are left as they were.
        #expect(try weights.values(.mlpDown, layer: 1).values == EditedTensor.transpose(editedValues, rows: 1024, cols: 256))

        // A base file whose tensor really is not what the runtime was loaded with is refused, by name.
        do {
            _ = try EditedTensor.locate(record, file: editedFile, weights: weights)
            Issue.record("the edited file's tensor was taken for the runtime's W₀")
        } catch let e as EvalError {
            let text = e.errorDescription ?? ""
            #expect(text.contains(edited) && text.contains("transformer.h.1.mlp.c_proj.weight")
                    && text.contains("mlpDown of layer 1 as loaded is not this tensor"), "\(text)")
        }
        try weights.restore(.mlpDown, layer: 1)
        #expect(try weights.values(.mlpDown, layer: 1).values == EditedTensor.transpose(t.w0, rows: 1024, cols: 256))
    }
}
