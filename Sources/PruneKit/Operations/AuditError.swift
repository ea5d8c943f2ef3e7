import Foundation
import PruneFormats

/// Errors of `prune-audit` beyond those of reading the sidecar (`SidecarError`).
public enum AuditError: LocalizedError, Sendable, Equatable {
    /// A verbatim manifest does not match its recorded hash.
    case manifestHashMismatch(path: String, manifest: Int, name: String)
    /// Recomputing a tensor's spectra failed.
    case numerics(path: String, tensor: String, reason: String)
    /// An adapter given in place of the model cannot be read as one.
    case badAdapter(path: String, tensor: String?, reason: String)

    public var errorDescription: String? {
        switch self {
        case .manifestHashMismatch(let p, let i, let n):
            return "\(p): manifest bytes do not match their recorded SHA-256, the sidecar is damaged (manifest \(i), '\(n)')"
        case .numerics(let p, let t, let r):
            return "\(p): cannot recompute the spectra (\(r); tensor '\(t)')"
        case .badAdapter(let p, let t, let r):
            return "\(p): not a LoRA adapter prune-audit can check: \(r)" + (t.map { " (tensor \(quoted($0)))" } ?? "")
        }
    }
}
