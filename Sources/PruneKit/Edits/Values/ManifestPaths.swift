import Foundation

/// Resolves the files a manifest refers to, against its folder: they must exist, be regular files
/// (adapters: folders), and stay inside the folder unless `allowOutsidePaths`; each one is recorded
/// as an input of the run.
final class ManifestPaths {
    /// The folder relative paths are resolved against, as given (the manifest's folder).
    let folder: URL
    let options: ManifestOptions
    /// Said when a file is not found: where it was looked for (and, for a manifest that is a
    /// symbolic link, that the link's folder is the one searched).
    let searchNote: String
    private let realFolder: String?
    private(set) var referenced: [ReferencedFile] = []

    init(folder: URL, options: ManifestOptions, manifestLink: String? = nil) {
        self.folder = folder
        self.options = options
        realFolder = ManifestPaths.realPath(folder.path)
        let shown = realFolder ?? folder.path
        if let manifestLink {
            searchNote = "looked in \(shown), the folder of the manifest as given; the manifest is a symbolic link to \(manifestLink), whose folder was not searched"
        } else {
            searchNote = "looked in \(shown)"
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// What kind of file `mode` is, for messages.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a folder"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a pipe"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// The resolved path of `written` (a file, or a folder when `folder` is true) of manifest `line`.
    func resolve(_ written: String, folder wantFolder: Bool = false, manifest: String, line: Int) throws -> URL {
        let url = written.hasPrefix("/") ? URL(fileURLWithPath: written) : folder.appendingPathComponent(written)
        try check(url, written: written, wantFolder: wantFolder, manifest: manifest, line: line)
        return url
    }

    /// Checks a file inside an already resolved adapter folder (`written` names it in messages).
    func check(_ url: URL, written: String, wantFolder: Bool = false, manifest: String, line: Int) throws {
        guard let real = ManifestPaths.realPath(url.path) else {
            throw EditError.missingFile(manifest: manifest, line: line, file: written, searched: searchNote)
        }
        if !options.allowOutsidePaths {
            guard let root = realFolder, real == root || real.hasPrefix(root == "/" ? "/" : root + "/") else {
                throw EditError.outsideFolder(manifest: manifest, line: line, file: written, folder: realFolder ?? folder.path)
            }
        }
        var st = stat()
        guard stat(real, &st) == 0 else {
            throw EditError.missingFile(manifest: manifest, line: line, file: written, searched: searchNote)
        }
        let isFolder = st.st_mode & S_IFMT == S_IFDIR
        if wantFolder {
            guard isFolder else { return }     // the adapter reader says "not a folder"
        } else {
            guard st.st_mode & S_IFMT == S_IFREG else {
                throw EditError.notARegularFile(manifest: manifest, line: line, file: written, kind: ManifestPaths.kind(st.st_mode))
            }
            referenced.append(ReferencedFile(path: real, written: written, line: line))
        }
    }
}
