import PruneFormats

/// A value inside a tokenizer JSON file with its place (`model.merges[12]`), for typed reads that
/// fail with a one-line error naming the file and the place.
struct JSONField {
    let node: JSONNode
    let place: String
    let file: String

    static func root(_ node: JSONNode, file: String) -> JSONField { JSONField(node: node, place: "top level", file: file) }

    func error(_ message: String) -> TokenizerError { .invalidTokenizerJSON(path: file, place: place, message: message) }

    var isNull: Bool { if case .null = node { return true }; return false }

    private func childPlace(_ key: String) -> String { place == "top level" ? key : place + "." + key }

    /// The member `key` (nil when absent or null).
    subscript(key: String) -> JSONField? {
        guard let v = node[key] else { return nil }
        if case .null = v { return nil }
        return JSONField(node: v, place: childPlace(key), file: file)
    }

    func require(_ key: String) throws -> JSONField {
        guard case .object = node else { throw error("expected an object") }
        guard let f = self[key] else { throw TokenizerError.invalidTokenizerJSON(path: file, place: childPlace(key), message: "missing") }
        return f
    }

    func string() throws -> String {
        guard case .string(let s) = node else { throw error("expected a string") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = node else { throw error("expected true or false") }
        return b
    }

    func int() throws -> Int {
        guard case .number(let text) = node, let v = Int(text) else { throw error("expected an integer") }
        return v
    }

    func double() throws -> Double {
        guard case .number(let text) = node, let v = Double(text) else { throw error("expected a number") }
        return v
    }

    func array() throws -> [JSONField] {
        guard case .array(let items) = node else { throw error("expected an array") }
        return items.enumerated().map { JSONField(node: $0.element, place: "\(place)[\($0.offset)]", file: file) }
    }

    func members() throws -> [(key: String, value: JSONField)] {
        guard case .object(let ms) = node else { throw error("expected an object") }
        return ms.map { ($0.key, JSONField(node: $0.value, place: childPlace($0.key), file: file)) }
    }

    func bool(_ key: String, default d: Bool) throws -> Bool { try self[key]?.bool() ?? d }

    /// A member that is a string, or an object with a `content` string (an AddedToken dict).
    func tokenString(_ key: String) throws -> String? {
        guard let f = self[key] else { return nil }
        if case .string(let s) = f.node { return s }
        return try f.require("content").string()
    }
}
