import Foundation

/// A file written under a temporary name in the destination folder and renamed into place on
/// `commit()`; removed if not committed, and on SIGINT/SIGTERM (`TemporaryFiles`). Refuses to
/// replace the input file.
package final class AtomicOutputFile {
    package let path: String
    package let tempPath: String
    package let fd: Int32
    /// How messages name the destination (the user's path when `path` is a staging name).
    package let name: String
    private var done = false
    private let registration: TemporaryFiles.Registration

    /// `inputIdentity` is the (device, inode) of the input when it is a file; `name` is how errors
    /// name the destination (default: `path`).
    package init(path: String, inputIdentity: (dev: UInt64, ino: UInt64)?, inputPath: String?, name: String? = nil) throws {
        self.path = path
        let name = name ?? path
        self.name = name
        var st = stat()
        if let id = inputIdentity, stat(path, &st) == 0, UInt64(st.st_dev) == id.dev, UInt64(st.st_ino) == id.ino {
            throw ContainerError.outputIsInput(path: name)
        }
        if let inputPath, inputPath == path { throw ContainerError.outputIsInput(path: name) }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let base = url.lastPathComponent
        var template = Array((dir + "/." + base + ".prune-tmp-XXXXXX").utf8CString)
        let (fd, err, registration) = TemporaryFiles.guarded { () -> (Int32, Int32, TemporaryFiles.Registration?) in
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd < 0 { return (fd, errno, nil) }
            let temp = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (fd, 0, TemporaryFiles.register(temp))
        }
        guard fd >= 0, let registration else {
            let folder = URL(fileURLWithPath: name).deletingLastPathComponent().path
            throw ContainerError.writeFailed(path: name, reason: "cannot create a file in \(folder): " + errnoText(err))
        }
        self.fd = fd
        self.registration = registration
        self.tempPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // mkstemp creates 0600; give the usual 0666 & ~umask.
        fchmod(fd, 0o666 & ~AtomicOutputFile.processUmask)
    }

    /// The process's umask, read once from /proc/self/status without changing it: the usual
    /// umask(0)/umask(old) probe would let a file another thread creates meanwhile be made
    /// world-writable. (022 when /proc does not say.)
    static let processUmask: mode_t = {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0o022 }
        for line in status.split(separator: "\n") where line.hasPrefix("Umask:") {
            if let v = mode_t(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) { return v }
        }
        return 0o022
    }()

    deinit { abort() }

    package func commit() throws {
        guard !done else { return }
        done = true
        if close(fd) != 0 {
            let e = errno
            unlink(tempPath)
            registration.release()
            throw ContainerError.writeFailed(path: name, reason: errnoText(e))
        }
        let e: Int32 = TemporaryFiles.guarded {
            let failed = rename(tempPath, path) != 0
            let e = failed ? errno : 0
            if failed { unlink(tempPath) }
            registration.release()
            return e
        }
        if e != 0 { throw ContainerError.writeFailed(path: name, reason: "cannot rename into place: " + errnoText(e)) }
    }

    /// Removes the temporary file (no-op after `commit`).
    package func abort() {
        guard !done else { return }
        done = true
        close(fd)
        unlink(tempPath)
        registration.release()
    }
}
