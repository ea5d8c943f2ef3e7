import Foundation
import PruneFormats

/// The base model an adapter is made for (`--base`): its tensors, architecture and head counts,
/// read from the header only (a model file, or a Hugging Face folder with config.json).
public struct AdapterBase: Sendable {
    public var path: String
    public var model: ModelDescription
    /// The Hugging Face folder (PEFT's `base_model_name_or_path`), when the base is one or a
    /// safetensors file with config.json beside it.
    public var folder: String?

    public init(path: String, model: ModelDescription, folder: String?) {
        self.path = path
        self.model = model
        self.folder = folder
    }

    /// Opens `path`: a .safetensors or .gguf file (possibly zstd), or a checkpoint folder.
    public static func open(_ path: String) throws -> AdapterBase {
        if CheckpointFolder.isFolder(path) {
            let folder = try CheckpointFolder(path: path)
            let tensors = try folder.headers().flatMap { $0.header.tensors }
            let model = ModelDescription.safetensors(tensors: tensors, modelPath: CheckpointFolder.join(path, CheckpointFolder.singleFile))
            return AdapterBase(path: path, model: model, folder: path)
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw AdapterError.badBase(base: path, reason: "a folder without model.safetensors or model.safetensors.index.json")
        }
        let model = ModelDescription(file: try ModelFile(path: path))
        return AdapterBase(path: path, model: model, folder: huggingFaceFolder(of: path, format: model.format))
    }

    /// The folder of a safetensors file with config.json beside it, as the path gives it.
    static func huggingFaceFolder(of path: String, format: ModelFormat) -> String? {
        guard format == .safetensors, path != "-" else { return nil }
        if CheckpointFolder.isFolder(path) { return path }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path) else { return nil }
        let given = (path as NSString).deletingLastPathComponent
        return given.isEmpty ? "." : given
    }
}
