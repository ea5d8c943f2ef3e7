import Foundation

/// Errors of reading and writing model files that are not about one format's header:
/// opening, reading, decompressing, writing, and rewriting.
public enum ContainerError: LocalizedError, Sendable, Equatable {
    case cannotOpen(path: String, reason: String)
    case isDirectory(path: String)
    case readFailed(path: String, offset: Int, reason: String)
    case truncated(path: String, offset: Int, what: String)
    case emptyInput(path: String)
    case unknownFormat(path: String, firstBytes: String)
    case zstdCorrupt(path: String, offset: Int, reason: String)
    case zstdTruncated(path: String, offset: Int)
    case zstdFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case outputIsInput(path: String)
    case tensorNotFound(path: String, name: String)
    case replacementWrongSize(path: String, tensor: String, expected: Int, got: Int)
    case wrongFormat(path: String, expected: ModelFormat, found: ModelFormat)

    public var errorDescription: String? { oneLineMessage(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .cannotOpen(let p, let r): return "\(p): cannot open (\(r))"
        case .isDirectory(let p): return "\(p): is a directory, expected a model file"
        case .readFailed(let p, let o, let r): return "\(p): read failed (at byte \(o): \(r))"
        case .truncated(let p, let o, let w): return "\(p): unexpected end of file (at byte \(o), reading \(w))"
        case .emptyInput(let p): return "\(p): empty input, expected a safetensors or GGUF model (at byte 0)"
        case .unknownFormat(let p, let b):
            return "\(p): not a safetensors or GGUF file, nor zstd-compressed (first bytes \(b), at byte 0)"
        case .zstdCorrupt(let p, let o, let r): return "\(p): corrupt zstd data (\(r), at compressed byte \(o))"
        case .zstdTruncated(let p, let o): return "\(p): truncated zstd frame (input ends at compressed byte \(o))"
        case .zstdFailed(let p, let r): return "\(p): zstd compression failed (\(r))"
        case .writeFailed(let p, let r): return "\(p): write failed (\(r))"
        case .outputIsInput(let p): return "\(p): refusing to overwrite the input file (output path)"
        case .tensorNotFound(let p, let n): return "\(p): no tensor named '\(n)' (tensor table)"
        case .replacementWrongSize(let p, let t, let e, let g):
            return "\(p): replacement for tensor '\(t)' has \(g) bytes, the tensor has \(e) (tensor '\(t)')"
        case .wrongFormat(let p, let e, let f): return "\(p): expected a \(e.rawValue) file, found \(f.rawValue) (at byte 0)"
        }
    }
}

/// How a path is named in messages: `-` is standard input.
package func displayName(_ path: String) -> String { path == "-" ? "<stdin>" : path }

/// The text of an errno value.
package func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// A message made safe for one line: control characters escaped (names and keys come from the
/// file), and very long messages shortened in the middle so the place at the end stays.
package func oneLineMessage(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value) || u == "\u{2028}" || u == "\u{2029}" {
                out += "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    if out.count > 1000 { out = String(out.prefix(600)) + " … " + String(out.suffix(300)) }
    return out
}
