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
    /// A manifest with fact lines (rome, memit, alphaedit) given to a caller without the fact engine.
    case noFactEngine(path: String)
    /// Fact lines run the model, which must be a file, not standard input.
    case factsNeedModelFile(path: String)
    /// An output (`option`: -o or --sidecar) would replace an input (`input`, described by `what`).
    case outputIsInput(path: String, option: String, input: String, what: String)
    /// Two outputs (`option` and `other`) name the same file.
    case sameOutput(path: String, option: String, other: String)
    /// A destination that cannot be written (checked before any work).
    case cannotWrite(path: String, what: String, reason: String)
    /// The restrained delta's factors overflow f32: it can be neither stored nor reverted.
    case deltaOverflow(path: String, tensor: String)
    /// The edited tensor would hold a NaN or an infinity (`base` is W₀ at that element).
    case nonFinite(path: String, tensor: String, element: Int, value: Float, base: Float)

    public var errorDescription: String? {
        switch self {
        case .noFactEngine(let p):
            return "\(p): the manifest has fact lines (rome, memit, alphaedit) but this caller cannot compute them"
        case .factsNeedModelFile(let p):
            return "\(p): fact lines (rome, memit, alphaedit) run the model, which must be a file or folder, not standard input"
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
        case .outputIsInput(let p, let o, let i, let w):
            _ = i
            return "\(p): \(o) would overwrite an input: \(w)"
        case .sameOutput(let p, let o, let other):
            return "\(p): \(o) and \(other) name the same file; each output needs a file of its own"
        case .cannotWrite(let p, let w, let r):
            return "\(p): cannot write \(w) here: \(r) (checked before reading the model)"
        case .deltaOverflow(let p, let t):
            return "\(p): the restrained delta does not fit in f32 (its factors overflow), so it can be neither stored nor reverted (tensor \(t))"
        case .nonFinite(let p, let t, let i, let v, let b):
            let was = b.isFinite ? "" : ", and already \(b) in the base"
            return "\(p): the edited tensor would hold \(v) at element \(i)\(was); give --allow-nonfinite to write it anyway (tensor \(t))"
        }
    }
}
