import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Helpers of the edit tests: fixture paths, temp folders, Python cross-check scripts.
enum EditsSupport {
    static var packageRoot: URL { TestEnvironment.packageRoot }
    static var fixtures: URL { URL(fileURLWithPath: TestEnvironment.fixtures) }

    /// A fixture file; records a failure (never a skip) when it is absent.
    static func fixture(_ relative: String) throws -> String { try TestEnvironment.fixture(relative) }

    struct ScriptFailed: Error, CustomStringConvertible { var description: String }

    static func tempDir() throws -> URL { URL(fileURLWithPath: try TestEnvironment.tempDir("edits")) }

    /// Runs `python3 Tests/scripts/<script> args…`; returns stdout, throws with its output on failure.
    @discardableResult
    static func python(_ script: String, _ args: [String]) throws -> String { try TestProcess.python(script, args).stdoutText }

    /// The model description of a model file, read by gguf-py / safetensors (independent of prune's readers).
    static func describe(_ modelPath: String) throws -> ModelDescription {
        let json = try python("edits_tensor_list.py", [modelPath])
        let v = try JSONNodeParser.parse(Array(json.utf8))
        guard case .string(let format)? = v["format"], let f = ModelFormat(rawValue: format),
              case .array(let list)? = v["tensors"] else { throw ScriptFailed(description: "bad tensor list") }
        var tensors: [TensorInfo] = []
        for t in list {
            guard case .string(let name)? = t["name"], case .string(let type)? = t["type"], case .array(let dims)? = t["shape"] else { continue }
            let shape = dims.compactMap { d -> Int? in d.doubleValue.map { Int($0) } }
            let tt: TensorType
            if f == .gguf {
                guard let g = GGMLType.allCases.first(where: { $0.description == type }) else { throw ScriptFailed(description: "type \(type)") }
                tt = .ggml(g)
            } else {
                guard let d = SafetensorsDType(rawValue: type) else { throw ScriptFailed(description: "dtype \(type)") }
                tt = .safetensors(d)
            }
            tensors.append(TensorInfo(name: name, type: tt, shape: shape, offset: 0, byteCount: tt.byteCount(forElements: shape.reduce(1, *)) ?? 0))
        }
        func int(_ k: String) -> Int? { v[k]?.doubleValue.map { Int($0) } }
        var arch: String?
        if case .string(let a)? = v["architecture"] { arch = a }
        return ModelDescription(format: f, tensors: tensors, architecture: arch, headCount: int("head_count"), headCountKV: int("head_count_kv"))
    }

    /// Writes a manifest (lines joined with "\n") into `dir` and loads it. `allowOutsidePaths` for
    /// manifests that name files elsewhere on purpose (fixtures, another temporary folder).
    static func manifest(_ lines: [String], in dir: URL, name: String = "edits.jsonl",
                         allowOutsidePaths: Bool = false) throws -> EditManifest {
        let url = dir.appendingPathComponent(name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return try EditManifest.load(path: url.path, options: ManifestOptions(allowOutsidePaths: allowOutsidePaths))
    }

    /// The EditError a manifest gives (load, then resolve against `model` if given); nil if none.
    static func error(_ lines: [String], model: ModelDescription? = nil, allowOutsidePaths: Bool = false) throws -> EditError? {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let m = try manifest(lines, in: dir, allowOutsidePaths: allowOutsidePaths)
            if let model { _ = try m.resolve(against: model) }
            return nil
        } catch let e as EditError {
            return e
        }
    }

    static func writeRaw(_ values: [Float], to url: URL) throws {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try Data(bytes).write(to: url)
    }

    static func jsonString(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes]), as: UTF8.self).dropFirst().dropLast().description
    }
}
