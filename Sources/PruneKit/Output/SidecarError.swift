import Foundation
import PruneFormats

/// Errors of the sidecar layer: building, writing, reading and checking a sidecar file.
public enum SidecarError: LocalizedError, Equatable {
    case builder(String)
    case notASidecar(path: String, reason: String)
    case unsupportedVersion(path: String, version: Int)
    case malformed(path: String, reason: String)
    case partHashMismatch(path: String, part: String)
    case residual(path: String, tensor: String, reason: String)
    case io(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .builder(let r): return "sidecar: \(r)"
        case .notASidecar(let p, let r): return "\(p): not a prune sidecar (\(r))"
        case .unsupportedVersion(let p, let v): return "\(p): sidecar format version \(v) is newer than this tool understands (format_version)"
        case .malformed(let p, let r): return "\(p): malformed sidecar (\(r))"
        case .partHashMismatch(let p, let part): return "\(p): sidecar part does not match its recorded SHA-256, the file is damaged (part \(part))"
        case .residual(let p, let t, let r): return "\(p): bad residual (\(r)) (tensor \(t))"
        case .io(let p, let r): return "\(p): \(r)"
        }
    }
}
