import Foundation

/// Reads the float tensors of a small .safetensors file (matrix values, LoRA adapters) as f32.
/// TEMPORARY: a minimal reader until the container's SafetensorsFile + TensorCodec land on main.
enum SafetensorsValues {
    static func readAll(url: URL) throws -> [String: EditMatrix] {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch { throw ValueFileFailure(reason: "cannot read (\(error.localizedDescription))") }
        guard bytes.count >= 8 else { throw ValueFileFailure(reason: "not a safetensors file (shorter than 8 bytes)") }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard n <= UInt64(bytes.count - 8) else { throw ValueFileFailure(reason: "not a safetensors file (header length \(n) past the end)") }
        let header: EditJSON
        do { header = try EditJSONParser.parse(Array(bytes[8..<(8 + Int(n))])) } catch { throw ValueFileFailure(reason: "bad header JSON (\(error.reason) at header byte \(error.offset))") }
        guard case .object(let entries) = header else { throw ValueFileFailure(reason: "header is not an object") }
        let dataStart = 8 + Int(n)
        var out: [String: EditMatrix] = [:]
        for (name, entry) in entries where name != "__metadata__" {
            guard case .string(let dtype)? = entry["dtype"], case .array(let dims)? = entry["shape"],
                  case .array(let offs)? = entry["data_offsets"], offs.count == 2,
                  case .number(let b)? = offs.first, case .number(let e)? = offs.last,
                  b >= 0, e >= b, e <= Double(bytes.count - dataStart) else { throw ValueFileFailure(reason: "bad header entry for \(quoted(name))") }
            let shape = dims.compactMap { v -> Int? in if case .number(let d) = v, d >= 0, d < 1e12 { return Int(d) }; return nil }
            guard shape.count == dims.count else { throw ValueFileFailure(reason: "bad shape for \(quoted(name))") }
            let size: Int
            switch dtype { case "F32": size = 4; case "F16", "BF16": size = 2; case "F64": size = 8; default: continue }
            let count = shape.reduce(1, *)
            guard Int(e) - Int(b) == count * size else { throw ValueFileFailure(reason: "tensor \(quoted(name)) has the wrong byte count") }
            guard shape.count == 1 || shape.count == 2, count > 0 else { continue }
            let base = dataStart + Int(b)
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                var raw: UInt64 = 0
                for k in 0..<size { raw |= UInt64(bytes[base + i * size + k]) << (8 * UInt64(k)) }
                switch dtype {
                case "F32": values[i] = Float(bitPattern: UInt32(raw))
                case "F16": values[i] = halfToFloat(UInt16(raw))
                case "BF16": values[i] = Float(bitPattern: UInt32(raw) << 16)
                default: values[i] = Float(Double(bitPattern: raw))
                }
            }
            out[name] = EditMatrix(shape: shape, values: values)
        }
        return out
    }
}
