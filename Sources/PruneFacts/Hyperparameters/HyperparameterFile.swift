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
        if let line = tooDeepLine(text) {
            throw FactError.unreadableHyperparameters(path: name, reason: "YAML nesting deeper than \(JSONNodeParser.maxDepth) levels at line \(line)")
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

    /// The first line where the YAML may nest deeper than the JSON readers' limit
    /// (`JSONNodeParser.maxDepth`), or nil: Yams composes recursively, and a deep enough document
    /// overflows the stack. The bound is an upper estimate read before parsing: open flow brackets
    /// (outside quotes and comments), plus the stack of block indentations, plus the `- ` and `? `
    /// entries that open a line; a document it passes nests no deeper.
    static func tooDeepLine(_ text: String) -> Int? {
        var flow = 0
        var indents: [Int] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Array(raw.utf8)
            var i = 0
            while i < line.count, line[i] == UInt8(ascii: " ") { i += 1 }
            var block = indents.count
            if flow == 0, i < line.count, line[i] != UInt8(ascii: "#"), line[i] != UInt8(ascii: "\r") {
                while let last = indents.last, last >= i { indents.removeLast() }
                indents.append(i)
                block = indents.count
                // `- - - x`: each entry marker opens one more level on the same line.
                var j = i
                while j + 1 < line.count, line[j] == UInt8(ascii: "-") || line[j] == UInt8(ascii: "?"), line[j + 1] == UInt8(ascii: " ") {
                    block += 1
                    j += 2
                    while j < line.count, line[j] == UInt8(ascii: " ") { j += 1 }
                }
            }
            var quote: UInt8? = nil
            var deepest = flow
            var k = i
            while k < line.count {
                let c = line[k]
                if let q = quote {
                    if c == UInt8(ascii: "\\"), q == UInt8(ascii: "\"") { k += 1 } else if c == q { quote = nil }
                } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    quote = c
                } else if c == UInt8(ascii: "#"), k == 0 || line[k - 1] == UInt8(ascii: " ") {
                    break
                } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    flow += 1
                    deepest = max(deepest, flow)
                } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    flow = max(0, flow - 1)
                }
                k += 1
            }
            if block + deepest > JSONNodeParser.maxDepth { return number + 1 }
        }
        return nil
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
