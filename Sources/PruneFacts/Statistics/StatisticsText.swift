import Foundation
import PruneFormats
import PruneKit

/// The text key statistics are computed over (`--stats-text FILE`): plain text with one document a
/// line (empty lines skipped), or JSON Lines whose objects carry a `text` field.
public struct StatisticsText: Sendable {
    public var path: String
    /// SHA-256 of the file's bytes.
    public var sha256: String
    public var documents: [String]

    public static func load(path: String) throws -> StatisticsText {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"
            throw FactError.badStatisticsText(path: path, reason: reason)
        }
        return try parse(bytes: [UInt8](data), path: path)
    }

    /// The offset of the first byte that is not part of valid UTF-8.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var it = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let s): offset += s.count
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }

    public static func parse(bytes: [UInt8], path: String) throws -> StatisticsText {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FactError.badStatisticsText(path: path, reason: "neither UTF-8 text (invalid UTF-8 at byte \(firstInvalidUTF8(bytes))) nor a prune statistics file (no safetensors header)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let last = lines.last, last.isEmpty { lines.removeLast() }
        let firstContent = lines.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let jsonl = firstContent?.trimmingCharacters(in: .whitespaces).hasPrefix("{") ?? false
        var docs: [String] = []
        for (i, raw) in lines.enumerated() {
            var line = raw
            if line.hasSuffix("\r") { line.removeLast() }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            if jsonl {
                let node: JSONNode
                do { node = try JSONNodeParser.parse(Array(line.utf8)) } catch {
                    throw FactError.badStatisticsText(path: path, reason: "line \(i + 1): invalid JSON (\(error.message))")
                }
                guard let t = node["text"]?.stringValue else {
                    throw FactError.badStatisticsText(path: path, reason: "line \(i + 1): no \"text\" string")
                }
                if !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { docs.append(t) }
            } else {
                docs.append(line)
            }
        }
        guard !docs.isEmpty else { throw FactError.badStatisticsText(path: path, reason: "no documents (every line is empty)") }
        return StatisticsText(path: path, sha256: SHA256Hasher.hex(bytes), documents: docs)
    }
}
