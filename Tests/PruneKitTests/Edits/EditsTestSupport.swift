import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Helpers of the edit tests: fixture paths, temp folders, Python cross-check scripts.
enum EditsSupport {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var fixtures: URL {
        if let env = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }

    /// A fixture file; records a failure (never a skip) when it is absent.
    static func fixture(_ relative: String) throws -> String {
        let path = fixtures.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw FixtureMissing(path: path)
        }
        return path
    }

    struct FixtureMissing: Error, CustomStringConvertible { var path: String; var description: String { "fixture missing: \(path)" } }
    struct ScriptFailed: Error, CustomStringConvertible { var description: String }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("prune-edits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `python3 Tests/scripts/<script> args…`; returns stdout, throws with its output on failure.
    @discardableResult
    static func python(_ script: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageRoot.appendingPathComponent("Tests/scripts/\(script)").path] + args
        p.currentDirectoryURL = packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: o, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw ScriptFailed(description: "\(script) failed (\(p.terminationStatus)): \(text) \(String(decoding: e, as: UTF8.self))")
        }
        return text
    }

    /// The model description of a model file, read by gguf-py / safetensors (independent of prune's readers).
    static func describe(_ modelPath: String) throws -> ModelDescription {
        let json = try python("edits_tensor_list.py", [modelPath])
        let v = try EditJSONParser.parse(Array(json.utf8))
        guard case .string(let format)? = v["format"], let f = ModelFormat(rawValue: format),
              case .array(let list)? = v["tensors"] else { throw ScriptFailed(description: "bad tensor list") }
        var tensors: [TensorInfo] = []
        for t in list {
            guard case .string(let name)? = t["name"], case .string(let type)? = t["type"], case .array(let dims)? = t["shape"] else { continue }
            let shape = dims.compactMap { d -> Int? in if case .number(let x) = d { return Int(x) }; return nil }
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
        func int(_ k: String) -> Int? { if case .number(let x)? = v[k] { return Int(x) }; return nil }
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
