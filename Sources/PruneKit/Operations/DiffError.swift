import Foundation
import PruneFormats

/// Errors of `prune-diff`.
public enum DiffError: LocalizedError, Sendable, Equatable {
    /// A tensor was requested behind the stream cursor (a bug: the plan orders reads by offset).
    case internalOrder(path: String, tensor: String)
    /// A tensor's bytes do not decode (message from the codec).
    case cannotDecode(path: String, tensor: String, reason: String)
    /// The linear algebra failed on a tensor's difference.
    case numerics(path: String, tensor: String, reason: String)
    /// `--sidecar` needs A and B to differ only in the values of float tensors.
    case sidecarLayout(path: String, reason: String)
    /// The sidecar would overwrite an input.
    case sidecarIsInput(path: String)

    public var errorDescription: String? {
        switch self {
        case .internalOrder(let p, let t):
            return "\(p): tensor read out of order (tensor '\(t)'; internal error, please report)"
        case .cannotDecode(let p, let t, let r):
            return "\(p): cannot decode tensor values (\(r); tensor '\(t)')"
        case .numerics(let p, let t, let r):
            return "\(p): singular value computation failed (\(r); tensor '\(t)')"
        case .sidecarLayout(let p, let r):
            return "\(p): cannot write a sidecar from A to B: \(r) (--sidecar)"
        case .sidecarIsInput(let p):
            return "\(p): refusing to overwrite an input with the sidecar (--sidecar)"
        }
    }
}
