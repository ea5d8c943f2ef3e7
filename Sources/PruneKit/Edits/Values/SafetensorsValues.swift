import Foundation

/// Reads the float tensors of a small .safetensors file (matrix values, LoRA adapters) as f32,
/// through the container's validating `SafetensorsFile`.
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
            guard case .safetensors(let dtype) = t.type, [.f32, .f16, .bf16, .f64].contains(dtype) else {
                skipped[t.name] = "is \(t.type), not F32, F16, BF16 or F64"; continue
            }
            guard t.shape.count == 1 || t.shape.count == 2, t.elementCount > 0 else {
                skipped[t.name] = "has shape \(t.shape), not a non-empty vector or matrix"; continue
            }
            let count = t.elementCount
            let values: [Float] = try file.withData(for: t.name) { raw in
                var v = [Float](repeating: 0, count: count)
                switch dtype {
                case .f32: for i in 0..<count { v[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                case .f16: for i in 0..<count { v[i] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
                case .bf16: for i in 0..<count { v[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16) }
                default: for i in 0..<count { v[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))) }
                }
                return v
            }
            out[t.name] = EditMatrix(shape: t.shape, values: values)
        }
        return (out, skipped)
    }
}
