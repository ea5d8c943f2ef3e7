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
            throw ValueFileFailure(reason: reason(error, path: url.path))
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

    /// The container's message without the path it starts with, and never any of the file's bytes:
    /// a manifest must not be able to make the tool print the content of a file it points at.
    static func reason(_ error: Error, path: String) -> String {
        switch error {
        case ContainerError.unknownFormat, ContainerError.wrongFormat:
            return "not a safetensors file (at byte 0)"
        case SafetensorsError.invalidJSON(_, let offset, _):
            return "not a safetensors file: the header is not valid JSON (at byte \(offset))"
        case SafetensorsError.headerTooLarge, SafetensorsError.headerBeyondEnd:
            return "not a safetensors file: no plausible header length (at byte 0)"
        default:
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            let prefix = path + ": "
            return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
        }
    }
}
