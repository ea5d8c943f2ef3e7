import Foundation
import PruneFormats

/// Reads the float tensors of a small .safetensors file (matrix values, LoRA adapters) as f32,
/// through the container's validating `SafetensorsFile` and `TensorCodec` (every float dtype).
enum SafetensorsValues {
    /// Every 1-D or 2-D float tensor of the file, by name. Other tensors are left out (asking for
    /// one by key reports it as absent, with its dtype/shape reason in `skipped`).
    static func readAll(url: URL) throws -> [String: EditMatrix] {
        try read(url: url).values
    }

    static func read(url: URL) throws -> (values: [String: EditMatrix], skipped: [String: String]) {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: url.path) } catch {
            // The container's messages start with the path; keep only what follows it.
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            let prefix = url.path + ": "
            throw ValueFileFailure(reason: message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message)
        }
        var out: [String: EditMatrix] = [:]
        var skipped: [String: String] = [:]
        for t in file.tensors {
            guard case .safetensors(let dtype) = t.type, dtype.isFloat, TensorCodec.canDecode(t.type) else {
                skipped[t.name] = "is \(t.type), not a float type"; continue
            }
            guard t.shape.count == 1 || t.shape.count == 2, t.elementCount > 0 else {
                skipped[t.name] = "has shape \(t.shape), not a non-empty vector or matrix"; continue
            }
            let values: [Float]
            do {
                values = try file.withData(for: t.name) { try TensorCodec.decode($0, as: t.type, count: t.elementCount) }
            } catch {
                throw ValueFileFailure(reason: "tensor \(quoted(t.name)): " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
            }
            out[t.name] = EditMatrix(shape: t.shape, values: values)
        }
        return (out, skipped)
    }
}
