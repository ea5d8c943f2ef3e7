import Foundation
import PruneFormats
import PruneKit

/// `prune-apply EDITED MANIFEST --continue OLD.prune` with fact lines: the base model W₀ rebuilt
/// from the edited model and its sidecar (as prune-revert does, its SHA-256 checked), in a scratch
/// folder of the system's temporary directory, so that the fact engine computes the new facts, its
/// statistics and generated templates on W₀ and the chain's recorded raw terms exactly as a single
/// run of the whole chain would (FactSession.seedChain). Removed when the session ends (and on a
/// signal, as every temporary file).
final class ContinuedBase {
    /// The rebuilt base: a GGUF file, a safetensors file with the model's config and tokenizer
    /// files linked beside it, or a Hugging Face folder.
    let path: String
    private let folder: String
    /// The user's model and its folder, which messages name instead of the scratch folder.
    private let editedModel: String
    private let modelFolder: String
    private var registrations: [TemporaryFiles.Registration] = []
    private var created: [String] = []

    init(editedModel: String, sidecar: String, format: ModelFormat, threads: Int) throws {
        self.editedModel = editedModel
        // A Hugging Face folder is rebuilt as a folder (prune-revert copies its config and tokenizer).
        let isFolder = CheckpointFolder.isFolder(editedModel)
        let slash = editedModel.lastIndex(of: "/")
        modelFolder = isFolder ? editedModel : slash.map { $0 == editedModel.startIndex ? "/" : String(editedModel[..<$0]) } ?? "."
        let temporary = FileManager.default.temporaryDirectory.path
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prune-continue-\(UUID().uuidString)").path
        path = folder + "/" + (isFolder ? "model" : format == .gguf ? "model.gguf" : "model.safetensors")
        // Registered before it exists: on SIGINT/SIGTERM it goes with everything in it.
        let err: Int32 = TemporaryFiles.guarded {
            let r = TemporaryFiles.registerFolder(folder)
            guard mkdir(folder, 0o700) == 0 else {
                let e = errno
                r.release()
                return e
            }
            registrations.append(r)
            return 0
        }
        guard err == 0 else {
            throw FactError.unsupportedModel(path: editedModel, reason: "cannot rebuild W₀ from \(sidecar) for the fact lines: cannot create a folder in the temporary directory \(temporary): \(String(cString: strerror(err)))")
        }
        do {
            if format == .safetensors && !isFolder {
                // The runtime reads config.json and the tokenizer beside a safetensors file.
                // Links to absolute paths: a relative one would resolve inside the scratch folder.
                let dir = URL(fileURLWithPath: modelFolder).standardizedFileURL.path
                for name in ModelInputFiles.companionNames
                where FileManager.default.fileExists(atPath: dir + "/" + name) {
                    let link = folder + "/" + name
                    try TemporaryFiles.guarded {
                        registrations.append(TemporaryFiles.register(link))
                        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir + "/" + name)
                        created.append(link)
                    }
                }
            }
            registrations.append(TemporaryFiles.register(path))
            created.append(path)
            _ = try Revert.run(model: editedModel, sidecar: sidecar, output: .file(path), options: .uncompressed, threads: threads)
        } catch {
            remove()
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            // Errors about the edited model and the sidecar name them already; an error about the
            // scratch folder (writing the rebuilt base) says where it was.
            guard message.contains(folder) else { throw error }
            throw FactError.unsupportedModel(path: editedModel, reason: "cannot rebuild W₀ from \(sidecar) for the fact lines in the temporary directory \(temporary): " + message.replacingOccurrences(of: path + ": ", with: ""))
        }
    }

    /// `message` (about the rebuilt base or the files linked beside it) naming the user's files: the
    /// edited model instead of the rebuilt base, the model's folder instead of the scratch folder.
    func naming(_ message: String) -> String {
        message.replacingOccurrences(of: path, with: editedModel).replacingOccurrences(of: folder + "/", with: modelFolder + "/")
    }

    private func remove() {
        for p in created { try? FileManager.default.removeItem(atPath: p) }
        try? FileManager.default.removeItem(atPath: folder)
        for r in registrations { r.release() }
        created = []
    }

    deinit { remove() }
}
