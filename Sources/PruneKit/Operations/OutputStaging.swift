import Foundation
import PruneFormats

/// Writes the model through the rewriter to a hidden file next to the destination, so that the model
/// and its sidecar appear together only when everything succeeded (`commit`), or not at all. The
/// hidden file is removed on failure and on SIGINT/SIGTERM (`TemporaryFiles`); messages name the
/// destination, never the hidden file.
struct OutputStaging {
    let target: OutputTarget
    /// Where the rewriter writes.
    let rewriterTarget: OutputTarget
    private let staging: String?
    private let registration: TemporaryFiles.Registration?

    init(_ target: OutputTarget) {
        self.target = target
        switch target {
        case .stdout, .discard:
            staging = nil
            registration = nil
            rewriterTarget = target
        case .file(let path):
            let url = URL(fileURLWithPath: path)
            let dir = url.deletingLastPathComponent().path
            let s = (dir.isEmpty ? "." : dir) + "/.\(url.lastPathComponent).prune-staging-\(UUID().uuidString.prefix(8))"
            staging = s
            // Registered before it exists: the rewriter renames its own temporary file to it.
            registration = TemporaryFiles.register(s)
            rewriterTarget = .file(s)
        }
    }

    /// A rewriter writing to the staging file, naming the destination in its messages.
    func rewriter(input: String, options: OutputOptions) -> ModelRewriter {
        ModelRewriter(input: input, output: rewriterTarget, options: options, outputName: target.name)
    }

    /// Renames the staging file into place (call inside `TemporaryFiles.guarded` together with the
    /// sidecar's commit, so that a signal cannot separate them).
    func commit() throws {
        guard let staging, case .file(let path) = target else { return }
        try TemporaryFiles.guarded {
            defer { registration?.release() }
            guard rename(staging, path) == 0 else {
                let e = errno
                unlink(staging)
                throw SidecarError.io(path: path, reason: "cannot rename into place: \(String(cString: strerror(e)))")
            }
        }
    }

    func discard() {
        if let staging { unlink(staging) }
        registration?.release()
    }

    /// Removes the committed output (used when the sidecar cannot be put in place after it).
    func uncommit() {
        if case .file(let path) = target { unlink(path) }
    }
}

enum FileIdentity {
    /// Whether two paths name the same existing file.
    static func same(_ a: String, _ b: String) -> Bool {
        guard a != "-", b != "-" else { return false }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
