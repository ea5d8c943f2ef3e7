import Foundation
import PruneFormats

/// A file written to a temporary name next to its destination, that appears under its real name
/// only on `commit()` (rename, atomic on one file system) and vanishes on `discard()`.
/// Lets an operation that writes several files write none of them when it fails midway.
public final class StagedFile {
    public let destination: String
    public let temporaryPath: String
    private var done = false

    public init(bytes: [UInt8], destination: String) throws {
        self.destination = destination
        let url = URL(fileURLWithPath: destination)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        temporaryPath = (dir.isEmpty ? "." : dir) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SidecarError.io(path: destination, reason: "cannot create a file in its folder: \(String(cString: strerror(errno)))")
        }
        var ok = true
        var err: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var at = 0
            while at < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + at, raw.count - at)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false; err = errno; return
                }
                at += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; err = errno }
        close(fd)
        guard ok else {
            unlink(temporaryPath)
            throw SidecarError.io(path: destination, reason: "cannot write: \(String(cString: strerror(err)))")
        }
    }

    /// Moves the file to its destination.
    public func commit() throws {
        guard !done else { return }
        done = true
        guard rename(temporaryPath, destination) == 0 else {
            let e = errno
            unlink(temporaryPath)
            throw SidecarError.io(path: destination, reason: "cannot rename into place: \(String(cString: strerror(e)))")
        }
    }

    /// Removes the temporary file.
    public func discard() {
        guard !done else { return }
        done = true
        unlink(temporaryPath)
    }

    deinit { discard() }
}
