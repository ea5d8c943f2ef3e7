import Foundation

/// Texts given as command-line arguments, checked against the bytes the process received:
/// `CommandLine.arguments` replaces invalid UTF-8 by U+FFFD, so a prompt would silently become
/// another text. Such an argument is refused, as standard input that is not UTF-8 is.
enum ArgumentText {
    /// The decoded (repaired) form of every argument whose bytes are not valid UTF-8.
    static var invalidUTF8: Set<String> {
        var out = Set<String>()
        for i in 0..<Int(CommandLine.argc) {
            guard let p = CommandLine.unsafeArgv[i] else { continue }
            let bytes = UnsafeRawBufferPointer(start: p, count: strlen(p))
            if String(validating: bytes, as: UTF8.self) == nil { out.insert(String(decoding: bytes, as: UTF8.self)) }
        }
        return out
    }

    /// Throws for the first of `texts` that came from an argument that is not UTF-8, naming it as
    /// `<what> <1-based index>` (`prompt 2`, `TEXT 1`).
    static func refuseInvalidUTF8(_ texts: [String], what: String) throws {
        let bad = invalidUTF8
        guard !bad.isEmpty else { return }
        for (i, t) in texts.enumerated() where bad.contains(t) {
            throw CLIUsageError(message: "\(what) \(i + 1): the text is not valid UTF-8 (command-line argument)")
        }
    }
}
