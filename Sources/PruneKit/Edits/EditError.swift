import Foundation
import PruneFormats

/// Everything that can be wrong with an edit manifest, its matrix values or its adapters.
///
/// Every message is one line that starts with `<manifest>:<line>:` (compiler style), so that the user
/// sees at once which edit is at fault. `line` is the 1-based physical line of the manifest.
public enum EditError: LocalizedError, Equatable, Sendable {
    /// The manifest itself cannot be read.
    case unreadableManifest(manifest: String, reason: String)
    /// The line is not valid JSON (column is 1-based, in bytes).
    case invalidJSON(manifest: String, line: Int, column: Int, reason: String)
    /// The line is valid JSON but not an object.
    case notAnObject(manifest: String, line: Int)
    case unknownKind(manifest: String, line: Int, kind: String)
    case missingField(manifest: String, line: Int, field: String, kind: String)
    case unknownField(manifest: String, line: Int, field: String, kind: String)
    /// A field has the wrong JSON type (`expected` says what it should be).
    case wrongType(manifest: String, line: Int, field: String, expected: String)
    /// NaN, ±Infinity, or a number outside the f32 range, at `place` (e.g. `u[3][1]`, `scale`).
    case nonFiniteNumber(manifest: String, line: Int, place: String)
    /// A matrix value is malformed (ragged rows, empty, bad base64, …).
    case badMatrix(manifest: String, line: Int, field: String, reason: String)
    /// A matrix value does not fit the tensor it edits.
    case wrongShape(manifest: String, line: Int, field: String, reason: String)
    case unknownTensor(manifest: String, line: Int, tensor: String, suggestion: String?)
    /// The tensor exists but cannot be edited (integer type, 0-D, …).
    case uneditableTensor(manifest: String, line: Int, tensor: String, reason: String)
    /// A value file or adapter that does not exist; `searched` says where it was looked for.
    case missingFile(manifest: String, line: Int, file: String, searched: String)
    /// A value file or adapter outside the manifest's folder (without --allow-outside-paths).
    case outsideFolder(manifest: String, line: Int, file: String, folder: String)
    /// A value file that is a folder, a device, a pipe or a socket.
    case notARegularFile(manifest: String, line: Int, file: String, kind: String)
    /// A value file (.npy, .safetensors) or adapter file is unreadable or malformed.
    case badValueFile(manifest: String, line: Int, file: String, reason: String)
    case badAdapter(manifest: String, line: Int, adapter: String, reason: String)
    /// A LoRA target module that does not correspond to any tensor of the model.
    case unmappableModule(manifest: String, line: Int, adapter: String, module: String)
    case duplicateID(manifest: String, line: Int, id: String, firstLine: Int)
    /// The model lacks what a name mapping or orientation needs (e.g. the attention head count).
    case missingModelInfo(manifest: String, line: Int, tensor: String, reason: String)
    /// A line that places no delta on any tensor (never a silent success).
    case editsNothing(manifest: String, line: Int, id: String, kind: String)

    public var manifest: String {
        switch self {
        case .unreadableManifest(let m, _), .invalidJSON(let m, _, _, _), .notAnObject(let m, _),
             .unknownKind(let m, _, _), .missingField(let m, _, _, _), .unknownField(let m, _, _, _),
             .wrongType(let m, _, _, _), .nonFiniteNumber(let m, _, _), .badMatrix(let m, _, _, _),
             .wrongShape(let m, _, _, _), .unknownTensor(let m, _, _, _), .uneditableTensor(let m, _, _, _),
             .missingFile(let m, _, _, _), .outsideFolder(let m, _, _, _), .notARegularFile(let m, _, _, _), .badValueFile(let m, _, _, _), .badAdapter(let m, _, _, _),
             .unmappableModule(let m, _, _, _), .duplicateID(let m, _, _, _), .missingModelInfo(let m, _, _, _),
             .editsNothing(let m, _, _, _):
            return m
        }
    }

    /// The manifest line the error is about (nil when the manifest cannot be read at all).
    public var line: Int? {
        switch self {
        case .unreadableManifest: return nil
        case .invalidJSON(_, let l, _, _), .notAnObject(_, let l), .unknownKind(_, let l, _),
             .missingField(_, let l, _, _), .unknownField(_, let l, _, _), .wrongType(_, let l, _, _),
             .nonFiniteNumber(_, let l, _), .badMatrix(_, let l, _, _), .wrongShape(_, let l, _, _),
             .unknownTensor(_, let l, _, _), .uneditableTensor(_, let l, _, _), .missingFile(_, let l, _, _),
             .outsideFolder(_, let l, _, _), .notARegularFile(_, let l, _, _),
             .badValueFile(_, let l, _, _), .badAdapter(_, let l, _, _), .unmappableModule(_, let l, _, _),
             .duplicateID(_, let l, _, _), .missingModelInfo(_, let l, _, _), .editsNothing(_, let l, _, _):
            return l
        }
    }

    public var errorDescription: String? {
        let head = line.map { "\(manifest):\($0): " } ?? "\(manifest): "
        return head + detail
    }

    private var detail: String {
        switch self {
        case .unreadableManifest(_, let reason):
            return "cannot read the manifest (\(reason))"
        case .invalidJSON(_, _, let column, let reason):
            return "invalid JSON: \(reason) (column \(column))"
        case .notAnObject:
            return "an edit must be a JSON object"
        case .unknownKind(_, _, let kind):
            let kinds = EditManifest.kinds.map(quoted)
            return "unknown kind \(quoted(kind)) (expected \(kinds.dropLast().joined(separator: ", ")) or \(kinds.last!))"
        case .missingField(_, _, let field, let kind):
            return "missing field \(quoted(field)) for kind \(quoted(kind))"
        case .unknownField(_, _, let field, let kind):
            return "unknown field \(quoted(field)) for kind \(quoted(kind))"
        case .wrongType(_, _, let field, let expected):
            return "field \(quoted(field)) must be \(expected)"
        case .nonFiniteNumber(_, _, let place):
            return "non-finite number at \(place) (NaN, Infinity or outside the f32 range)"
        case .badMatrix(_, _, let field, let reason):
            return "bad matrix value in \(quoted(field)): \(reason)"
        case .wrongShape(_, _, let field, let reason):
            return "wrong shape of \(quoted(field)): \(reason)"
        case .unknownTensor(_, _, let tensor, let suggestion):
            return "unknown tensor \(quoted(tensor))" + (suggestion.map { " (did you mean \(quoted($0))?)" } ?? "")
        case .uneditableTensor(_, _, let tensor, let reason):
            return "tensor \(quoted(tensor)) cannot be edited: \(reason)"
        case .missingFile(_, _, let file, let searched):
            return "no such file \(quoted(file)) (\(searched))"
        case .outsideFolder(_, _, let file, let folder):
            return "\(quoted(file)) is outside the manifest's folder \(folder); give --allow-outside-paths to read it"
        case .notARegularFile(_, _, let file, let kind):
            return "\(quoted(file)) is \(kind), not a regular file"
        case .badValueFile(_, _, let file, let reason):
            return "\(file): \(reason)"
        case .badAdapter(_, _, let adapter, let reason):
            return "adapter \(adapter): \(reason)"
        case .unmappableModule(_, _, let adapter, let module):
            return "adapter \(adapter): module \(quoted(module)) does not map to a tensor of the model"
        case .duplicateID(_, _, let id, let firstLine):
            return "duplicate id \(quoted(id)) (first used on line \(firstLine))"
        case .missingModelInfo(_, _, let tensor, let reason):
            return "cannot place the delta of \(quoted(tensor)): \(reason)"
        case .editsNothing(_, _, let id, let kind):
            return "edit \(quoted(id)) (\(kind)) changes no tensor of the model"
        }
    }
}

/// A JSON-style quoted string for messages (keeps messages on one line).
func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
        if out.utf8.count > 200 { out += "…"; break }
    }
    return out + "\""
}
