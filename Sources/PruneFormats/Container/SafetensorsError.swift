import Foundation

/// A safetensors file that breaks the format (checks follow the reference `safetensors` crate).
public enum SafetensorsError: LocalizedError, Sendable, Equatable {
    case headerTooLarge(path: String, length: UInt64)
    case headerBeyondEnd(path: String, length: UInt64, fileSize: Int)
    case headerNotUTF8(path: String, offset: Int)
    case invalidJSON(path: String, offset: Int, reason: String)
    case headerNotObject(path: String)
    case duplicateTensor(path: String, name: String, offset: Int)
    case invalidMetadata(path: String, key: String, reason: String)
    case invalidEntry(path: String, tensor: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case sizeOverflow(path: String, tensor: String)
    case partialBytes(path: String, tensor: String, dtype: String, elements: Int)
    case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
    case invalidOffsets(path: String, tensor: String, begin: Int, end: Int)
    case gap(path: String, tensor: String, expected: Int, found: Int)
    case overlap(path: String, tensor: String, other: String, begin: Int)
    case alias(path: String, tensor: String, other: String, begin: Int)
    case dataTruncated(path: String, expected: Int, actual: Int)
    case trailingBytes(path: String, dataEnd: Int, extra: String)

    public var errorDescription: String? { oneLineMessage(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .headerTooLarge(let p, let n):
            return "\(p): header length \(n) exceeds the 100000000-byte limit (at byte 0)"
        case .headerBeyondEnd(let p, let n, let s):
            return "\(p): header length \(n) runs past the end of the \(s)-byte file (at byte 0)"
        case .headerNotUTF8(let p, let o): return "\(p): header is not valid UTF-8 (at byte \(o))"
        case .invalidJSON(let p, let o, let r): return "\(p): header is not valid JSON: \(r) (at byte \(o))"
        case .headerNotObject(let p): return "\(p): header is not a JSON object (at byte 8)"
        case .duplicateTensor(let p, let n, let o): return "\(p): duplicate tensor name '\(n)' (at byte \(o))"
        case .invalidMetadata(let p, let k, let r): return "\(p): invalid __metadata__: \(r) (key '\(k)')"
        case .invalidEntry(let p, let t, let r): return "\(p): invalid header entry: \(r) (tensor '\(t)')"
        case .unknownDType(let p, let t, let d): return "\(p): unknown dtype '\(d)' (tensor '\(t)')"
        case .sizeOverflow(let p, let t): return "\(p): shape × dtype size overflows (tensor '\(t)')"
        case .partialBytes(let p, let t, let d, let n):
            return "\(p): \(n) \(d) elements do not fill whole bytes (tensor '\(t)')"
        case .sizeMismatch(let p, let t, let e, let a):
            return "\(p): data_offsets span \(a) bytes but shape × dtype needs \(e) (tensor '\(t)')"
        case .invalidOffsets(let p, let t, let b, let e):
            return "\(p): data_offsets [\(b), \(e)] end before they begin (tensor '\(t)')"
        case .gap(let p, let t, let e, let f):
            return "\(p): gap in the data: tensor starts at data byte \(f), expected \(e) (tensor '\(t)')"
        case .overlap(let p, let t, let o, let b):
            return "\(p): data overlaps tensor '\(o)' (tensor '\(t)', data byte \(b))"
        case .alias(let p, let t, let o, let b):
            return "\(p): data aliases tensor '\(o)' (tensor '\(t)', data byte \(b))"
        case .dataTruncated(let p, let e, let a):
            return "\(p): file is truncated: data needs \(e) bytes in total, file has \(a) (at byte \(a))"
        case .trailingBytes(let p, let end, let x):
            return "\(p): \(x) trailing bytes after the last tensor (at byte \(end))"
        }
    }
}
