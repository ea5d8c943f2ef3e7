import Foundation
import PruneFormats

/// A file written to a temporary name next to its destination, that appears under its real name
/// only on `commit()` (rename, atomic on one file system) and vanishes on `discard()`.
/// Lets an operation that writes several files write none of them when it fails midway. The
/// temporary file is also removed on SIGINT/SIGTERM (`TemporaryFiles`).
public final class StagedFile {
    public let destination: String
    public let temporaryPath: String
    private var done = false
    private let registration: TemporaryFiles.Registration

    public convenience init(bytes: [UInt8], destination: String) throws {
        try self.init(destination: destination) { sink in try bytes.withUnsafeBytes { try sink($0) } }
    }

    /// A staged file whose bytes `produce` hands, in pieces, to the sink it is given (so that a large
    /// file needs no copy of itself in memory). When `produce` throws, the temporary file is removed
    /// and its error rethrown.
    public init(destination: String, produce: (SafetensorsBuilder.Sink) throws -> Void) throws {
        self.destination = destination
        let url = URL(fileURLWithPath: destination)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let temp = (dir.isEmpty ? "." : dir) + "/.\(name).tmp-\(UUID().uuidString.prefix(8))"
        temporaryPath = temp
        let (fd, openErrno, registration) = TemporaryFiles.guarded { () -> (Int32, Int32, TemporaryFiles.Registration) in
            let registration = TemporaryFiles.register(temp)
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            return (fd, fd < 0 ? errno : 0, registration)
        }
        self.registration = registration
        guard fd >= 0 else {
            registration.release()
            throw SidecarError.io(path: destination, reason: "cannot create a file in its folder: \(String(cString: strerror(openErrno)))")
        }
        /// A failed write(2): its errno.
        struct WriteFailure: Error { var code: Int32 }
        var failure: Error?
        do {
            try produce { raw in
                var at = 0
                while at < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + at, raw.count - at)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw WriteFailure(code: errno)
                    }
                    at += n
                }
            }
            if fsync(fd) != 0 { throw WriteFailure(code: errno) }
        } catch {
            failure = error
        }
        close(fd)
        if let failure {
            unlink(temporaryPath)
            registration.release()
            done = true
            if let w = failure as? WriteFailure {
                throw SidecarError.io(path: destination, reason: "cannot write: \(String(cString: strerror(w.code)))")
            }
            throw failure
        }
    }

    /// Moves the file to its destination.
    public func commit() throws {
        guard !done else { return }
        done = true
        try TemporaryFiles.guarded {
            defer { registration.release() }
            guard rename(temporaryPath, destination) == 0 else {
                let e = errno
                unlink(temporaryPath)
                throw SidecarError.io(path: destination, reason: "cannot rename into place: \(String(cString: strerror(e)))")
            }
        }
    }

    /// Removes the temporary file.
    public func discard() {
        guard !done else { return }
        done = true
        unlink(temporaryPath)
        registration.release()
    }

    deinit { discard() }
}
