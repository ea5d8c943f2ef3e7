import Foundation
import PruneFormats

/// Why a tokenizer could not be loaded. Each message is one line naming the file and the place.
public enum TokenizerError: Error, LocalizedError, Sendable, Equatable {
    /// A folder with neither tokenizer file.
    case missingTokenizerFiles(folder: String, expected: [String])
    case notFound(path: String)
    case cannotRead(path: String, reason: String)
    /// A path that is neither a Hugging Face folder nor a GGUF file.
    case notATokenizerSource(path: String, detail: String)
    case malformedJSON(path: String, offset: Int, message: String)
    /// A JSON value of the wrong shape or meaning; `place` is its path in the document.
    case invalidTokenizerJSON(path: String, place: String, message: String)
    case unknownModelType(path: String, type: String, place: String)
    case unknownPreTokenizer(path: String, name: String, place: String)
    case unsupported(path: String, what: String, place: String)
    case invalidRegex(path: String, pattern: String, place: String, reason: String)
    case malformedProtobuf(path: String, offset: Int, message: String)
    case invalidSentencePiece(path: String, message: String)
    case ggufWithoutTokenizer(path: String)
    case invalidGGUFTokenizer(path: String, key: String, message: String)
    case unknownGGUFPreTokenizer(path: String, name: String)
    case unknownGGUFModel(path: String, name: String)
    case invalidGGUF(path: String, message: String)

    public var errorDescription: String? {
        switch self {
        case .missingTokenizerFiles(let folder, let expected):
            return "\(folder): no tokenizer: neither \(expected.joined(separator: " nor ")) is in the folder"
        case .notFound(let path):
            return "\(path): no such file or folder"
        case .cannotRead(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .notATokenizerSource(let path, let detail):
            return "\(path): not a Hugging Face model folder or a GGUF file (\(detail))"
        case .malformedJSON(let path, let offset, let message):
            return "\(path): malformed JSON: \(message) (byte \(offset))"
        case .invalidTokenizerJSON(let path, let place, let message):
            return "\(path): \(message) (\(place))"
        case .unknownModelType(let path, let type, let place):
            return "\(path): unsupported tokenizer model type \"\(type)\"; prune reads BPE (\(place))"
        case .unknownPreTokenizer(let path, let name, let place):
            return "\(path): unsupported pre-tokenizer \"\(name)\" (\(place))"
        case .unsupported(let path, let what, let place):
            return "\(path): unsupported \(what) (\(place))"
        case .invalidRegex(let path, let pattern, let place, let reason):
            return "\(path): invalid regex \(JSONText.quote(pattern)): \(reason) (\(place))"
        case .malformedProtobuf(let path, let offset, let message):
            return "\(path): malformed SentencePiece model protobuf: \(message) (byte \(offset))"
        case .invalidSentencePiece(let path, let message):
            return "\(path): invalid SentencePiece model: \(message)"
        case .ggufWithoutTokenizer(let path):
            return "\(path): GGUF without tokenizer metadata (no tokenizer.ggml.model / tokenizer.ggml.tokens)"
        case .invalidGGUFTokenizer(let path, let key, let message):
            return "\(path): \(message) (metadata key \(key))"
        case .unknownGGUFPreTokenizer(let path, let name):
            return "\(path): unknown pre-tokenizer type \"\(name)\" (metadata key tokenizer.ggml.pre)"
        case .unknownGGUFModel(let path, let name):
            return "\(path): unsupported tokenizer model \"\(name)\"; prune reads gpt2 and llama (metadata key tokenizer.ggml.model)"
        case .invalidGGUF(let path, let message):
            return "\(path): \(message)"
        }
    }
}
