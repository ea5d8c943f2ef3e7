import Foundation

/// Errors particular to running operations on checkpoint folders.
enum CheckpointError: LocalizedError, Equatable {
    case needsOutputFolder(path: String)
    case layoutMismatch(path: String, sidecar: String, reason: String)

    var errorDescription: String? {
        switch self {
        case .needsOutputFolder(let p): return "\(p): a checkpoint folder is written to a folder: give -o OUTDIR"
        case .layoutMismatch(let p, let s, let r): return "\(p): does not match the folder recorded by \(s) (\(r))"
        }
    }
}
