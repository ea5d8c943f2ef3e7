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
    /// The rebuilt base: a GGUF file, or a safetensors file with the model's config and tokenizer
    /// files linked beside it.
    let path: String
    private let folder: String
    private var registrations: [TemporaryFiles.Registration] = []
    private var created: [String] = []

    init(editedModel: String, sidecar: String, format: ModelFormat, threads: Int) throws {
        guard !CheckpointFolder.isFolder(editedModel) else {
            throw FactError.unsupportedModel(path: editedModel, reason: "--continue with fact lines takes a model file, not a sharded checkpoint folder (the fact engine rebuilds W₀ from \(sidecar))")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prune-continue-\(UUID().uuidString)").path
        path = folder + "/" + (format == .gguf ? "model.gguf" : "model.safetensors")
        // Registered before it exists: on SIGINT/SIGTERM it goes with everything in it.
        try TemporaryFiles.guarded {
            let r = TemporaryFiles.registerFolder(folder)
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) } catch {
                r.release()
                throw error
            }
            registrations.append(r)
        }
        do {
            if format == .safetensors {
                // The runtime reads config.json and the tokenizer beside a safetensors file.
                let dir = URL(fileURLWithPath: editedModel).deletingLastPathComponent().path
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
            throw error
        }
    }

    private func remove() {
        for p in created { try? FileManager.default.removeItem(atPath: p) }
        try? FileManager.default.removeItem(atPath: folder)
        for r in registrations { r.release() }
        created = []
    }

    deinit { remove() }
}
