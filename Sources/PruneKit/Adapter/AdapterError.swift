import Foundation
import PruneFormats

/// Errors of prune-adapter: one line each, naming the sidecar (or base, or output) and the tensor.
public enum AdapterError: LocalizedError, Equatable {
    /// An edit of the tensor is a dense term: its restrained delta is not a low-rank adapter.
    case denseTerm(sidecar: String, tensor: String, edit: String)
    /// The tensor's restrained delta has so large a rank that factors would not be smaller than the matrix.
    case notLowRank(sidecar: String, tensor: String, rank: Int, rows: Int, cols: Int)
    /// A sidecar of another tool's edit (`prune-diff --sidecar`) records the change as factors plus a
    /// forward residual the factors leave out: an adapter would carry the factors only.
    case forwardResidual(sidecar: String, tensor: String, rank: Int)
    /// A tensor an adapter cannot target (1-D, an embedding, not a `.weight`).
    case untargetable(sidecar: String, tensor: String, reason: String)
    /// The names or orientation of a tensor need what only the base model can say.
    case needsBase(sidecar: String, tensor: String, reason: String)
    /// The base model does not hold the tensor, or holds it with another shape.
    case baseMismatch(base: String, tensor: String, reason: String)
    /// The base model could not be read as what the adapter needs.
    case badBase(base: String, reason: String)
    /// Nothing to export (no tensor, or every restrained delta is zero).
    case empty(sidecar: String)
    /// The output is an input, or its place cannot take it.
    case badOutput(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .denseTerm(let s, let t, let e):
            return "\(s): edit \(quoted(e)) is a dense delta, not low-rank, so its restrained delta is no LoRA adapter; give --rank K to truncate it (tensor \(t))"
        case .notLowRank(let s, let t, let r, let rows, let cols):
            return "\(s): the restrained delta has rank \(r) on a \(rows)x\(cols) matrix: its factors would not be smaller than the matrix; give --rank K to truncate it (tensor \(t))"
        case .forwardResidual(let s, let t, let r):
            return "\(s): the sidecar records this change as rank-\(r) factors plus a residual they leave out (prune-diff of a quantized or dense edit); an adapter carries only the factors: give --rank K to accept that (tensor \(t))"
        case .untargetable(let s, let t, let r):
            return "\(s): an adapter cannot hold this tensor: \(r) (tensor \(t))"
        case .needsBase(let s, let t, let r):
            return "\(s): \(r); give --base MODEL (tensor \(t))"
        case .baseMismatch(let b, let t, let r):
            return "\(b): the base does not fit the sidecar: \(r) (tensor \(t))"
        case .badBase(let b, let r):
            return "\(b): cannot use this as the base: \(r)"
        case .empty(let s):
            return "\(s): the sidecar holds no non-zero restrained delta, so there is no adapter to write (tensors)"
        case .badOutput(let p, let r):
            return "\(p): \(r)"
        }
    }
}
