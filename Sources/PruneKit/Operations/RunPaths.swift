import Foundation
import PruneFormats

/// The files a run reads and writes, checked before any work: no output may replace an input (the
/// model, the manifest, every file the manifest refers to, a sidecar read), the two outputs must
/// differ, and every destination folder must accept a new file.
struct RunPaths {
    struct Input {
        var path: String
        /// How messages describe it ("the model", "the manifest", "a value file of the manifest, line 3").
        var what: String
    }

    private(set) var inputs: [Input] = []

    mutating func input(_ path: String, _ what: String) {
        guard path != "-" else { return }
        inputs.append(Input(path: path, what: what))
    }

    mutating func inputs(of manifest: EditManifest) {
        for f in manifest.referencedFiles {
            input(f.path, "the file \(quoted(f.written)) of manifest line \(f.line)")
        }
    }

    /// Whether two paths are one file: the same path once made absolute and standardized (also when
    /// neither exists yet), or the same existing file (device and inode, symbolic links followed).
    static func same(_ a: String, _ b: String) -> Bool {
        guard a != "-", b != "-" else { return false }
        if absolute(a) == absolute(b) { return true }
        return FileIdentity.same(a, b)
    }

    /// The path made absolute, with its folder's symbolic links resolved when the folder exists.
    static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let folder = url.deletingLastPathComponent().path
        if let real = ManifestPaths.realPath(folder) {
            return (real == "/" ? "" : real) + "/" + url.lastPathComponent
        }
        return url.path
    }

    /// Checks the outputs of a run; `sidecarWhat` describes the sidecar's place for messages.
    func check(output: OutputTarget, sidecar: String?, sidecarOption: String = "--sidecar") throws {
        var outputs: [(path: String, option: String)] = []
        if case .file(let p) = output { outputs.append((p, "-o")) }
        if let s = sidecar { outputs.append((s, sidecarOption)) }
        for o in outputs {
            for i in inputs where RunPaths.same(o.path, i.path) {
                throw ApplyError.outputIsInput(path: o.path, option: o.option, input: i.path, what: i.what)
            }
        }
        if outputs.count == 2, RunPaths.same(outputs[0].path, outputs[1].path) {
            throw ApplyError.sidecarIsOutput(path: outputs[1].path)
        }
        for o in outputs {
            try RunPaths.checkWritable(o.path, what: o.option == "-o" ? "the model (-o)" : "the sidecar (\(o.option))")
        }
    }

    /// The destination is not a folder, its folder exists, and a new file can be created in it
    /// (a probe file is created and removed at once).
    static func checkWritable(_ path: String, what: String) throws {
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            throw ApplyError.cannotWrite(path: path, what: what, reason: "it is a folder")
        }
        // The folder as the user wrote it (messages name their paths, not absolute ones).
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        var folder = String(path.dropLast(name.count))
        while folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        if folder.isEmpty { folder = "." }
        guard stat(folder, &st) == 0 else {
            throw ApplyError.cannotWrite(path: path, what: what, reason: "\(folder): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw ApplyError.cannotWrite(path: path, what: what, reason: "\(folder) is not a folder")
        }
        let probe = (folder == "/" ? "" : folder) + "/.\(name).prune-probe-\(UUID().uuidString.prefix(8))"
        let err: Int32 = TemporaryFiles.guarded {
            let registration = TemporaryFiles.register(probe)
            defer { registration.release() }
            let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 { return errno }
            close(fd)
            unlink(probe)
            return 0
        }
        if err != 0 {
            throw ApplyError.cannotWrite(path: path, what: what, reason: "\(folder): \(String(cString: strerror(err)))")
        }
    }
}
