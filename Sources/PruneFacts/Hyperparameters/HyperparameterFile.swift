import Foundation
import PruneFormats
import PruneKit
import Yams

/// Reads a `--hparams` file: a hyperparameter YAML of the ROME, MEMIT, AlphaEdit or EasyEdit
/// repositories as it is, or JSON with the same keys (plus prune's own).
public enum HyperparameterFile {
    public static func load(path: String) throws -> HyperparameterSource {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"
            throw FactError.unreadableHyperparameters(path: path, reason: reason)
        }
        return try parse(bytes: [UInt8](data), name: path)
    }

    public static func parse(bytes: [UInt8], name: String) throws -> HyperparameterSource {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "{") {
            do {
                let node = try JSONNodeParser.parse(bytes)
                guard case .object = node else { throw FactError.unreadableHyperparameters(path: name, reason: "not a JSON object") }
                return HyperparameterSource(name: name, values: node)
            } catch let e as JSONNodeParser.Failure {
                throw FactError.unreadableHyperparameters(path: name, reason: "invalid JSON at byte \(e.offset): \(e.message)")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FactError.unreadableHyperparameters(path: name, reason: "not UTF-8 text")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            let line = (error as? YamlError).flatMap(lineOf) ?? ""
            throw FactError.unreadableHyperparameters(path: name, reason: "invalid YAML\(line)")
        }
        guard let n = node, case .mapping = n else {
            throw FactError.unreadableHyperparameters(path: name, reason: "not a YAML mapping of keys to values")
        }
        return HyperparameterSource(name: name, values: convert(n))
    }

    static func lineOf(_ e: YamlError) -> String? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return " at line \(mark.line)"
        default: return nil
        }
    }

    /// YAML → JSON: plain scalars resolve to null, booleans and numbers as YAML resolves them;
    /// quoted scalars stay strings.
    static func convert(_ node: Node) -> JSONNode {
        switch node {
        case .scalar(let s):
            if s.style == .singleQuoted || s.style == .doubleQuoted { return .string(s.string) }
            if node.null != nil { return .null }
            if let b = node.bool { return .bool(b) }
            if let i = node.int { return .int(i) }
            if let f = node.float, f.isFinite { return .double(f) }
            return .string(s.string)
        case .mapping(let m):
            return .object(m.map { JSONNodeMember(key: $0.key.string ?? "", value: convert($0.value)) })
        case .sequence(let q):
            return .array(q.map(convert))
        }
    }
}
