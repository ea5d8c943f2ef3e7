import Foundation

/// The documents of a perplexity text: every line that is not blank (whitespace only), as is.
package enum TextDocuments {
    package struct Document: Sendable, Equatable {
        package var text: String
        /// The 1-based line of the file.
        package var line: Int
    }

    package static func read(_ path: String) throws -> [Document] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw EvalError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvalError.unreadable(path: path, reason: "not UTF-8 text")
        }
        let docs = split(text)
        guard !docs.isEmpty else { throw EvalError.empty(path: path, what: "no non-empty lines") }
        return docs
    }

    /// Lines are split at LF (a CR before it is dropped); a line is blank when it has only white space.
    package static func split(_ text: String) -> [Document] {
        var out: [Document] = []
        let bytes = Array(text.utf8)
        var start = 0
        var lineNumber = 1
        while start <= bytes.count {
            var end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let next = end + 1
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            let line = String(decoding: bytes[start..<end], as: UTF8.self)
            if line.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) {
                out.append(Document(text: line, line: lineNumber))
            }
            start = next
            lineNumber += 1
        }
        return out
    }
}
