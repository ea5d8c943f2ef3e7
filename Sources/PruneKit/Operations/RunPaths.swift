import Foundation
import PruneFormats

/// The files a run reads and writes, checked before any work: no output may replace an input (the
/// model and every file read with it, the manifest, every file the manifest refers to, a sidecar
/// read, hyperparameters, texts, request and task files), no two outputs are one file, and every
/// destination folder must accept a new file. Every command that writes files declares its inputs
/// and outputs here.
package struct RunPaths {
    package struct Input {
        var path: String
        /// How messages describe it ("the model", "the manifest", "a value file of the manifest, line 3").
        var what: String
    }

    /// An output and the option that names it ("-o", "--sidecar", "--plot", …).
    package struct Output {
        package var path: String
        package var option: String
        /// How messages about its destination describe it ("the model (-o)").
        package var what: String

        package init(_ path: String, option: String, what: String? = nil) {
            self.path = path
            self.option = option
            self.what = what ?? "\(option)"
        }
    }

    private(set) var inputs: [Input] = []

    package init() {}

    package mutating func input(_ path: String, _ what: String) {
        guard path != "-" else { return }
        inputs.append(Input(path: path, what: what))
    }

    /// A model path and every file read with it (`ModelInputFiles`): its folder's weights, config and
    /// tokenizer, or the config and tokenizer beside a safetensors file. `wholeFolder`: every file of
    /// a model folder (prune-apply copies them all).
    package mutating func inputs(ofModel path: String, wholeFolder: Bool = false) {
        input(path, "the model")
        for f in ModelInputFiles.files(of: path, wholeFolder: wholeFolder) where f.path != path { input(f.path, f.what) }
    }

    mutating func inputs(of manifest: EditManifest) {
        for f in manifest.referencedFiles {
            input(f.path, "the file \(quoted(f.written)) of manifest line \(f.line)")
        }
    }

    /// Whether two paths are one file: the same path once made absolute and standardized (also when
    /// neither exists yet), or the same existing file (device and inode, symbolic links followed).
    package static func same(_ a: String, _ b: String) -> Bool {
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

    /// Checks the outputs of a run; `sidecarOption` names the sidecar's place in messages.
    func check(output: OutputTarget, sidecar: String?, sidecarOption: String = "--sidecar") throws {
        var outputs: [Output] = []
        if case .file(let p) = output { outputs.append(Output(p, option: "-o", what: "the model (-o)")) }
        if let s = sidecar { outputs.append(Output(s, option: sidecarOption, what: "the sidecar (\(sidecarOption))")) }
        try check(outputs: outputs)
    }

    /// Checks every output: none replaces an input, no two are one file, each can be created.
    package func check(outputs: [Output]) throws {
        for o in outputs {
            for i in inputs where RunPaths.same(o.path, i.path) {
                throw ApplyError.outputIsInput(path: o.path, option: o.option, input: i.path, what: i.what)
            }
        }
        for (k, o) in outputs.enumerated() {
            if let other = outputs[..<k].first(where: { RunPaths.same($0.path, o.path) }) {
                throw ApplyError.sameOutput(path: o.path, option: o.option, other: other.option)
            }
        }
        for o in outputs {
            try RunPaths.checkWritable(o.path, what: o.what)
        }
    }

    /// The destination is not a folder, its folder exists, and a new file can be created in it
    /// (a probe file is created and removed at once).
    package static func checkWritable(_ path: String, what: String) throws {
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
