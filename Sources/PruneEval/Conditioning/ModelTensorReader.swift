import Foundation
import PruneFormats

/// Reads named tensors of a model, decoded to f32: a safetensors or GGUF file (plain or .zst), or a
/// Hugging Face folder (its `*.safetensors` files, sharded or not).
package final class ModelTensorReader {
    package let path: String
    private var files: [ModelFile] = []

    package init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvalError.unreadable(path: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !names.isEmpty else { throw EvalError.unreadable(path: path, reason: "no .safetensors file in the folder") }
            files = try names.map { try ModelFile(path: (path as NSString).appendingPathComponent($0)) }
        } else {
            files = [try ModelFile(path: path)]
        }
    }

    /// The tensor as a rows × cols row-major matrix (its memory-order matrix view).
    package func matrix(_ name: String) throws -> (rows: Int, cols: Int, values: [Float]) {
        for f in files {
            guard let info = f.info(named: name) else { continue }
            guard info.shape.count == 2, let shape = info.matrixShape else {
                throw EvalError.tensor(path: path, tensor: name, reason: "not a matrix (shape \(info.shape))")
            }
            let values = try f.withData(for: name) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
            return (shape.rows, shape.cols, values)
        }
        throw EvalError.tensor(path: path, tensor: name, reason: "not in the model")
    }
}
