import Foundation
import PruneFormats

/// Reads the matrix values of one manifest line (inline arrays, base64, .npy, .safetensors),
/// turning every problem into an `EditError` that names the manifest line.
struct MatrixValueReader {
    let manifest: String
    let line: Int
    /// Resolves and checks the files the line refers to (against the manifest's folder).
    let paths: ManifestPaths
    let files: ValueFileCache

    func nonFinite(_ place: String) -> EditError { .nonFiniteNumber(manifest: manifest, line: line, place: place) }
    func bad(_ field: String, _ reason: String) -> EditError { .badMatrix(manifest: manifest, line: line, field: field, reason: reason) }

    /// A finite number that is also finite as f32.
    func float(_ value: EditJSON, place: String, field: String) throws -> Float {
        guard case .number(let d) = value else { throw EditError.wrongType(manifest: manifest, line: line, field: field, expected: "a number (found \(value.typeName) at \(place))") }
        let f = Float(d)
        guard d.isFinite, f.isFinite else { throw nonFinite(place) }
        return f
    }

    /// A finite number kept as Double (scales).
    func scalar(_ value: EditJSON, field: String) throws -> Double {
        guard case .number(let d) = value else { throw EditError.wrongType(manifest: manifest, line: line, field: field, expected: "a number") }
        guard d.isFinite, Float(d).isFinite else { throw nonFinite(field) }
        return d
    }

    func matrix(_ value: EditJSON, field: String) throws -> EditMatrix {
        switch value {
        case .array(let items):
            return try inlineMatrix(items, field: field)
        case .object(let members):
            let keys = Set(members.map(\.key))
            if keys.contains("b64") { return try base64Matrix(value, keys: keys, field: field) }
            if keys.contains("file") { return try fileMatrix(value, keys: keys, field: field) }
            throw bad(field, "an object value needs \"b64\" and \"shape\", or \"file\" (and \"key\" for .safetensors)")
        default:
            throw EditError.wrongType(manifest: manifest, line: line, field: field, expected: "a matrix (an array, {\"b64\",\"shape\"} or {\"file\"})")
        }
    }

    private func inlineMatrix(_ items: [EditJSON], field: String) throws -> EditMatrix {
        guard let first = items.first else { throw bad(field, "empty array") }
        if case .array = first {
            var values: [Float] = []
            var cols = -1
            for (i, row) in items.enumerated() {
                guard case .array(let cells) = row else { throw bad(field, "row \(i) is \(row.typeName), not an array (mixed vector and matrix)") }
                if cols < 0 {
                    guard !cells.isEmpty else { throw bad(field, "row 0 is empty") }
                    cols = cells.count
                    values.reserveCapacity(cols * items.count)
                } else if cells.count != cols {
                    throw bad(field, "row \(i) has \(cells.count) values, row 0 has \(cols) (ragged rows)")
                }
                for (j, cell) in cells.enumerated() {
                    if case .array = cell { throw bad(field, "nested deeper than a matrix at \(field)[\(i)][\(j)]") }
                    values.append(try float(cell, place: "\(field)[\(i)][\(j)]", field: field))
                }
            }
            return EditMatrix(shape: [items.count, cols], values: values)
        }
        var values: [Float] = []
        values.reserveCapacity(items.count)
        for (i, cell) in items.enumerated() {
            if case .array = cell { throw bad(field, "element \(i) is an array, element 0 is not (mixed vector and matrix)") }
            values.append(try float(cell, place: "\(field)[\(i)]", field: field))
        }
        return EditMatrix(shape: [items.count], values: values)
    }

    private func shape(_ value: EditJSON?, field: String) throws -> [Int] {
        guard case .array(let dims)? = value, dims.count == 1 || dims.count == 2 else {
            throw bad(field, "\"shape\" must be [n] or [rows, cols]")
        }
        return try dims.map { d in
            guard case .number(let x) = d, x >= 1, x.rounded() == x else {
                throw bad(field, "\"shape\" entries must be positive integers")
            }
            guard x <= Double(Int32.max) else {
                throw bad(field, "\"shape\" entry \(x < 1e15 ? String(Int64(x)) : "\(x)") is too large (at most \(Int32.max))")
            }
            return Int(x)
        }
    }

    private func checkKeys(_ keys: Set<String>, allowed: Set<String>, field: String) throws {
        if let extra = keys.subtracting(allowed).sorted().first {
            throw bad(field, "unknown key \(quoted(extra)) (allowed: \(allowed.sorted().map(quoted).joined(separator: ", ")))")
        }
    }

    private func base64Matrix(_ value: EditJSON, keys: Set<String>, field: String) throws -> EditMatrix {
        try checkKeys(keys, allowed: ["b64", "shape"], field: field)
        guard case .string(let text)? = value["b64"] else { throw bad(field, "\"b64\" must be a string") }
        let dims = try shape(value["shape"], field: field)
        guard let data = Data(base64Encoded: text) else { throw bad(field, "\"b64\" is not valid base64") }
        let (count, o1) = dims.count == 2 ? dims[0].multipliedReportingOverflow(by: dims[1]) : (dims[0], false)
        let (bytes, o2) = count.multipliedReportingOverflow(by: 4)
        guard !o1, !o2, data.count == bytes else {
            throw bad(field, "\"b64\" holds \(data.count) bytes, shape \(EditMatrix(shape: dims, values: []).shapeText) of f32 needs \(o1 || o2 ? "more" : String(bytes))")
        }
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) { throw nonFinite("\(field) element \(i)") }
        return EditMatrix(shape: dims, values: values)
    }


    private func fileMatrix(_ value: EditJSON, keys: Set<String>, field: String) throws -> EditMatrix {
        try checkKeys(keys, allowed: ["file", "key"], field: field)
        guard case .string(let path)? = value["file"], !path.isEmpty else { throw bad(field, "\"file\" must be a non-empty string") }
        let url = try paths.resolve(path, manifest: manifest, line: line)
        let matrix: EditMatrix
        if let keyValue = value["key"] {
            guard case .string(let key) = keyValue else { throw bad(field, "\"key\" must be a string") }
            do {
                matrix = try files.safetensorsTensor(url: url, key: key)
            } catch let failure as ValueFileFailure {
                throw EditError.badValueFile(manifest: manifest, line: line, file: path, reason: failure.reason)
            }
        } else {
            guard url.pathExtension.lowercased() == "npy" else {
                throw bad(field, "\(quoted(path)) is not a .npy file; a .safetensors value needs a \"key\"")
            }
            do {
                matrix = try files.npy(url: url)
            } catch let failure as ValueFileFailure {
                throw EditError.badValueFile(manifest: manifest, line: line, file: path, reason: failure.reason)
            }
        }
        if let i = matrix.values.firstIndex(where: { !$0.isFinite }) { throw nonFinite("\(field) (\(path)) element \(i)") }
        return matrix
    }
}

/// Why a value file could not be used (wrapped into `EditError.badValueFile` with the line).
struct ValueFileFailure: Error, Sendable { var reason: String }

/// Value files read while loading one manifest, so that a file referenced by many edits is read once.
final class ValueFileCache {
    private var npyCache: [URL: EditMatrix] = [:]
    private var safetensorsCache: [URL: (values: [String: EditMatrix], skipped: [String: String])] = [:]

    func npy(url: URL) throws -> EditMatrix {
        if let m = npyCache[url] { return m }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch { throw ValueFileFailure(reason: "cannot read (\(error.localizedDescription))") }
        let m: EditMatrix
        do { m = try NPYReader.read(bytes) } catch { throw ValueFileFailure(reason: error.reason) }
        npyCache[url] = m
        return m
    }

    func safetensorsTensor(url: URL, key: String) throws -> EditMatrix {
        if safetensorsCache[url] == nil { safetensorsCache[url] = try SafetensorsValues.read(url: url) }
        if let reason = safetensorsCache[url]?.skipped[key] { throw ValueFileFailure(reason: "tensor \(quoted(key)) \(reason)") }
        guard let m = safetensorsCache[url]?.values[key] else {
            let names = safetensorsCache[url].map { Array($0.values.keys) } ?? []
            throw ValueFileFailure(reason: "no tensor \(quoted(key))" + (closestName(to: key, in: names).map { " (did you mean \(quoted($0))?)" } ?? ""))
        }
        return m
    }
}
