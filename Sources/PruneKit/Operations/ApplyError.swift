import Foundation
import PruneFormats

/// Errors of prune-apply, replay, continuation and prune-revert (one line each, naming the file and
/// the tensor or manifest line).
public enum ApplyError: LocalizedError, Equatable {
    case emptyTensor(path: String, tensor: String)
    case unsupportedType(path: String, tensor: String, type: String)
    case deltaShape(path: String, tensor: String, rows: Int, cols: Int, expectedRows: Int, expectedCols: Int)
    case missingTensor(path: String, tensor: String, sidecar: String)
    case tensorMismatch(path: String, tensor: String, sidecar: String, what: String)
    case tensorHashMismatch(path: String, tensor: String, sidecar: String, which: String)
    case modelHashMismatch(path: String, sidecar: String, which: String)
    case formatMismatch(path: String, sidecar: String, model: ModelFormat, recorded: ModelFormat)
    case continueParameters(path: String, sidecar: String, reason: String)
    case sameFile(path: String)

    public var errorDescription: String? {
        switch self {
        case .emptyTensor(let p, let t):
            return "\(p): tensor has no elements and cannot be edited (tensor \(t))"
        case .unsupportedType(let p, let t, let ty):
            return "\(p): tensors of type \(ty) cannot be decoded and re-encoded, so they cannot be edited (tensor \(t))"
        case .deltaShape(let p, let t, let r, let c, let er, let ec):
            return "\(p): delta is \(r)x\(c) but the tensor is \(er)x\(ec) (tensor \(t))"
        case .missingTensor(let p, let t, let s):
            return "\(p): the model has no tensor the sidecar \(s) records (tensor \(t))"
        case .tensorMismatch(let p, let t, let s, let w):
            return "\(p): tensor does not match the sidecar \(s): \(w) (tensor \(t))"
        case .tensorHashMismatch(let p, let t, let s, let w):
            return "\(p): tensor bytes are not the \(w) the sidecar \(s) records (tensor \(t))"
        case .modelHashMismatch(let p, let s, let w):
            return "\(p): SHA-256 of the model is not the \(w) hash the sidecar \(s) records (whole file)"
        case .formatMismatch(let p, let s, let m, let r):
            return "\(p): model is \(m.rawValue) but the sidecar \(s) records a \(r.rawValue) model (header)"
        case .continueParameters(let p, let s, let r):
            return "\(p): cannot continue the sidecar \(s): \(r) (parameters)"
        case .sameFile(let p):
            return "\(p): output would overwrite an input (path)"
        }
    }
}
