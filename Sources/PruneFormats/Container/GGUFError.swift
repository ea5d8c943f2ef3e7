import Foundation

/// A GGUF file that breaks the format (checks follow ggml's gguf.cpp, and add caps).
public enum GGUFError: LocalizedError, Sendable, Equatable {
    case badMagic(path: String)
    case bigEndian(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case countTooLarge(path: String, what: String, count: UInt64, offset: Int)
    case duplicateKey(path: String, key: String, offset: Int)
    case invalidValueType(path: String, key: String, type: UInt32, offset: Int)
    case stringTooLong(path: String, length: UInt64, offset: Int)
    case arrayTooLong(path: String, key: String, count: UInt64, offset: Int)
    case nestingTooDeep(path: String, key: String, offset: Int)
    case invalidAlignment(path: String, detail: String)
    case nameTooLong(path: String, tensor: String, offset: Int)
    case duplicateTensor(path: String, tensor: String, offset: Int)
    case tooManyDimensions(path: String, tensor: String, nDims: UInt32)
    case negativeDimension(path: String, tensor: String, dim: Int, value: Int64)
    case elementCountOverflow(path: String, tensor: String)
    case unknownType(path: String, tensor: String, type: UInt32)
    case notBlockMultiple(path: String, tensor: String, ne0: Int, type: String, blockSize: Int)
    case misplacedOffset(path: String, tensor: String, offset: UInt64, expected: Int)
    case dataOverflow(path: String, tensor: String)
    case dataTruncated(path: String, tensor: String, end: Int, fileSize: Int)
    case trailingBytes(path: String, offset: Int, extra: String)
    case pastEnd(path: String, what: String, fileSize: Int, offset: Int)

    public var errorDescription: String? { oneLineMessage(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .badMagic(let p): return "\(p): not a GGUF file (bad magic, at byte 0)"
        case .bigEndian(let p):
            return "\(p): big-endian GGUF is not supported; convert it to little-endian (version field at byte 4)"
        case .unsupportedVersion(let p, let v):
            return "\(p): unsupported GGUF version \(v), expected 2 or 3 (at byte 4)"
        case .countTooLarge(let p, let w, let c, let o): return "\(p): \(w) count \(c) exceeds the limit (at byte \(o))"
        case .duplicateKey(let p, let k, let o): return "\(p): duplicate key '\(k)' (at byte \(o))"
        case .invalidValueType(let p, let k, let t, let o): return "\(p): invalid value type \(t) for key '\(k)' (at byte \(o))"
        case .stringTooLong(let p, let l, let o): return "\(p): string length \(l) exceeds the limit (at byte \(o))"
        case .arrayTooLong(let p, let k, let c, let o):
            return "\(p): array of \(c) elements for key '\(k)' exceeds the limit (at byte \(o))"
        case .nestingTooDeep(let p, let k, let o): return "\(p): arrays nested too deeply in key '\(k)' (at byte \(o))"
        case .invalidAlignment(let p, let d): return "\(p): invalid general.alignment: \(d) (key 'general.alignment')"
        case .nameTooLong(let p, let t, let o): return "\(p): tensor name of \(t.utf8.count) bytes exceeds 63 (at byte \(o))"
        case .duplicateTensor(let p, let t, let o): return "\(p): duplicate tensor name '\(t)' (at byte \(o))"
        case .tooManyDimensions(let p, let t, let n): return "\(p): \(n) dimensions, at most 4 allowed (tensor '\(t)')"
        case .negativeDimension(let p, let t, let d, let v): return "\(p): ne[\(d)] = \(v) is negative (tensor '\(t)')"
        case .elementCountOverflow(let p, let t): return "\(p): element count overflows (tensor '\(t)')"
        case .unknownType(let p, let t, let ty): return "\(p): unknown ggml type \(ty) (tensor '\(t)')"
        case .notBlockMultiple(let p, let t, let ne0, let ty, let b):
            return "\(p): ne0 = \(ne0) is not a multiple of the \(ty) block size \(b) (tensor '\(t)')"
        case .misplacedOffset(let p, let t, let o, let e):
            return "\(p): data offset \(o) is not where the previous tensors end (expected \(e)) (tensor '\(t)')"
        case .dataOverflow(let p, let t): return "\(p): data size overflows (tensor '\(t)')"
        case .dataTruncated(let p, let t, let e, let s):
            return "\(p): file is truncated: tensor data ends at byte \(e), file has \(s) (tensor '\(t)')"
        case .trailingBytes(let p, let o, let x): return "\(p): \(x) trailing bytes after the tensor data (at byte \(o))"
        case .pastEnd(let p, let w, let s, let o): return "\(p): \(w) runs past the end of the \(s)-byte file (at byte \(o))"
        }
    }
}
