import Foundation

/// An output folder built under a hidden name next to its destination and renamed into place on
/// `commit()` (one rename: the folder appears whole or not at all); removed on `discard()`.
/// The destination must not exist, or be an empty folder.
package final class FolderStaging {
    package let destination: String
    package let path: String
    private var done = false
    private var registration: TemporaryFiles.Registration?

    package init(destination: String) throws {
        self.destination = destination
        var st = stat()
        if stat(destination, &st) == 0 {
            let empty = (st.st_mode & S_IFMT) == S_IFDIR
                && ((try? FileManager.default.contentsOfDirectory(atPath: destination))?.isEmpty ?? false)
            guard empty else { throw CheckpointFolderError.outputExists(path: destination) }
        }
        let url = URL(fileURLWithPath: destination)
        let parent = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let path = (parent.isEmpty ? "." : parent) + "/.\(name).prune-staging-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        self.path = path
        // Registered before it exists: on SIGINT/SIGTERM it goes with everything in it.
        let (registration, err) = TemporaryFiles.guarded { () -> (TemporaryFiles.Registration, Int32) in
            let r = TemporaryFiles.registerFolder(path)
            if mkdir(path, 0o755) == 0 { return (r, 0) }
            let e = errno
            r.release()
            return (r, e)
        }
        guard err == 0 else {
            done = true
            throw ContainerError.writeFailed(path: destination, reason: "cannot create a folder next to it: " + errnoText(err))
        }
        self.registration = registration
    }

    deinit { discard() }

    /// The path of `name` inside the staging folder (subfolders created as needed).
    package func file(_ name: String) throws -> String {
        let p = CheckpointFolder.join(path, name)
        let dir = URL(fileURLWithPath: p).deletingLastPathComponent().path
        if dir != path {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw ContainerError.writeFailed(path: CheckpointFolder.join(destination, name), reason: "cannot create its folder")
            }
        }
        return p
    }

    /// Puts `source` into the folder as `name`: a hard link to the file itself (through symbolic
    /// links) where the file system allows, else a copy.
    package func linkOrCopy(_ source: String, as name: String) throws {
        let target = try file(name)
        if linkat(AT_FDCWD, source, AT_FDCWD, target, AT_SYMLINK_FOLLOW) == 0 { return }
        try copy(source, as: name)
    }

    /// Copies `source` into the folder as `name`.
    package func copy(_ source: String, as name: String) throws {
        let target = try file(name)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ContainerError.cannotOpen(path: source, reason: errnoText(errno)) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw ContainerError.writeFailed(path: CheckpointFolder.join(destination, name), reason: errnoText(errno))
        }
        defer { close(output) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(input, buffer, 1 << 20)
            if n < 0 {
                if errno == EINTR { continue }
                throw ContainerError.readFailed(path: source, offset: 0, reason: errnoText(errno))
            }
            if n == 0 { break }
            var at = 0
            while at < n {
                let w = Glibc.write(output, buffer + at, n - at)
                if w < 0 {
                    if errno == EINTR { continue }
                    throw ContainerError.writeFailed(path: CheckpointFolder.join(destination, name), reason: errnoText(errno))
                }
                at += w
            }
        }
    }

    /// Writes `bytes` into the folder as `name`.
    package func write(_ bytes: [UInt8], as name: String) throws {
        let target = try file(name)
        guard FileManager.default.createFile(atPath: target, contents: Data(bytes)) else {
            throw ContainerError.writeFailed(path: CheckpointFolder.join(destination, name), reason: "cannot create the file")
        }
    }

    /// Renames the folder into place.
    package func commit() throws {
        guard !done else { return }
        var st = stat()
        if stat(destination, &st) == 0 { rmdir(destination) }    // an empty folder (checked at init)
        let e: Int32 = TemporaryFiles.guarded {
            guard rename(path, destination) == 0 else { return errno }
            registration?.release()
            return 0
        }
        guard e == 0 else {
            discard()
            throw ContainerError.writeFailed(path: destination, reason: "cannot rename the folder into place: " + errnoText(e))
        }
        done = true
    }

    /// Removes the staging folder and everything in it.
    package func discard() {
        guard !done else { return }
        done = true
        try? FileManager.default.removeItem(atPath: path)
        registration?.release()
    }

    /// Removes the committed folder (when a later step of the same run fails).
    package func uncommit() {
        try? FileManager.default.removeItem(atPath: destination)
    }
}
