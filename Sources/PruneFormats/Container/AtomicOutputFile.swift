import Foundation

/// A file written under a temporary name in the destination folder and renamed into place on
/// `commit()`; removed if not committed. Refuses to replace the input file.
package final class AtomicOutputFile {
    package let path: String
    package let tempPath: String
    package let fd: Int32
    private var done = false

    /// `inputIdentity` is the (device, inode) of the input when it is a file.
    package init(path: String, inputIdentity: (dev: UInt64, ino: UInt64)?, inputPath: String?) throws {
        self.path = path
        var st = stat()
        if let id = inputIdentity, stat(path, &st) == 0, UInt64(st.st_dev) == id.dev, UInt64(st.st_ino) == id.ino {
            throw ContainerError.outputIsInput(path: path)
        }
        if let inputPath, inputPath == path { throw ContainerError.outputIsInput(path: path) }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let base = url.lastPathComponent
        var template = Array((dir + "/." + base + ".prune-tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw ContainerError.writeFailed(path: path, reason: "cannot create a temporary file in \(dir): " + errnoText(errno)) }
        self.fd = fd
        self.tempPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // mkstemp creates 0600; give the usual 0666 & ~umask.
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
    }

    deinit { abort() }

    package func commit() throws {
        guard !done else { return }
        done = true
        if close(fd) != 0 {
            let e = errno
            unlink(tempPath)
            throw ContainerError.writeFailed(path: path, reason: errnoText(e))
        }
        if rename(tempPath, path) != 0 {
            let e = errno
            unlink(tempPath)
            throw ContainerError.writeFailed(path: path, reason: "rename: " + errnoText(e))
        }
    }

    /// Removes the temporary file (no-op after `commit`).
    package func abort() {
        guard !done else { return }
        done = true
        close(fd)
        unlink(tempPath)
    }
}
