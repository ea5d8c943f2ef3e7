import Foundation
import PruneFormats

/// The tensors of a model, from one GGUF file or from the safetensors file(s) of a Hugging Face
/// folder, found by their canonical (GGUF) names whatever the file calls them.
final class TensorStore: @unchecked Sendable {
    struct Entry {
        let file: ModelFile
        let info: TensorInfo
        /// The first byte of the tensor in the mapping.
        let base: UnsafeRawPointer
    }

    let format: ModelFormat
    let architecture: KnownArchitecture
    /// Every opened file (the mappings live as long as the store).
    let files: [ModelFile]
    private var byCanonical: [String: Entry] = [:]

    init(files: [ModelFile], architecture: KnownArchitecture) {
        self.files = files
        self.architecture = architecture
        self.format = files.first?.format ?? .safetensors
        for file in files {
            let bytes = file.mappedBytes
            for t in file.tensors {
                // Names outside the naming table (llama.cpp's rope_freqs) are kept as they are.
                let c = TensorNaming.canonicalName(t.name, arch: architecture) ?? t.name
                guard byCanonical[c] == nil else { continue }
                byCanonical[c] = Entry(file: file, info: t, base: bytes.baseAddress! + file.header.dataStart + t.offset)
            }
        }
    }

    func entry(_ canonical: String) -> Entry? { byCanonical[canonical] }

    /// The name the model's own files use for a canonical name (for messages).
    func fileName(_ canonical: String) -> String {
        if let e = byCanonical[canonical] { return e.info.name }
        if format == .gguf { return canonical }
        return TensorNaming.hfName(forGGUF: canonical, arch: architecture) ?? canonical
    }

    /// Where a missing tensor would be looked for (the folder or the file).
    var displayPath: String { files.count == 1 ? files[0].path : URL(fileURLWithPath: files[0].path).deletingLastPathComponent().path }
}

/// Opening the files of a model: a Hugging Face folder (config.json + model.safetensors or shards
/// with model.safetensors.index.json) or a GGUF file (plain or zstd-compressed).
enum ModelFiles {
    enum Source {
        case huggingFace(folder: String, configPath: String, files: [ModelFile])
        case gguf(ModelFile)
    }

    static func open(_ path: String) throws -> Source {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return try openFolder(path)
        }
        let file = try ModelFile(path: path)
        switch file.format {
        case .gguf:
            // One part of a llama.cpp split model lacks the other parts' tensors.
            try file.header.refuseSplit(path: path)
            return .gguf(file)
        case .safetensors:
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let config = folder + "/config.json"
            guard FileManager.default.fileExists(atPath: config) else { throw RuntimeError.missingConfig(folder: folder) }
            return .huggingFace(folder: folder, configPath: config, files: [file])
        }
    }

    private static func openFolder(_ folder: String) throws -> Source {
        let fm = FileManager.default
        let config = folder + "/config.json"
        guard fm.fileExists(atPath: config) else { throw RuntimeError.missingConfig(folder: folder) }
        for name in ["model.safetensors", "model.safetensors.zst"] where fm.fileExists(atPath: folder + "/" + name) {
            let file = try ModelFile(path: folder + "/" + name)
            guard file.format == .safetensors else {
                throw RuntimeError.badArgument("\(folder)/\(name): not a safetensors file (at byte 0)")
            }
            return .huggingFace(folder: folder, configPath: config, files: [file])
        }
        let indexPath = folder + "/model.safetensors.index.json"
        guard fm.fileExists(atPath: indexPath) else { throw RuntimeError.missingWeights(folder: folder) }
        return .huggingFace(folder: folder, configPath: config, files: try openShards(index: indexPath, folder: folder))
    }

    /// The shards named by `model.safetensors.index.json`, each checked to hold the tensors the
    /// index assigns to it.
    static func openShards(index indexPath: String, folder: String) throws -> [ModelFile] {
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw RuntimeError.badShardIndex(index: indexPath, reason: "cannot read the file")
        }
        let root: JSONNode
        do { root = try JSONNodeParser.parse([UInt8](data)) } catch {
            throw RuntimeError.badShardIndex(index: indexPath, reason: "not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object(let map)? = root["weight_map"] else {
            throw RuntimeError.badShardIndex(index: indexPath, reason: "no \"weight_map\" object")
        }
        var shards: [String] = []
        var assigned: [(tensor: String, shard: String)] = []
        for m in map {
            guard let shard = m.value.stringValue, !shard.isEmpty, !shard.contains("/"), shard != "..", shard != "." else {
                throw RuntimeError.badShardIndex(index: indexPath, reason: "tensor '\(m.key)' has no valid shard file name")
            }
            if !shards.contains(shard) { shards.append(shard) }
            assigned.append((m.key, shard))
        }
        guard !shards.isEmpty else { throw RuntimeError.badShardIndex(index: indexPath, reason: "the weight_map is empty") }
        var files: [String: ModelFile] = [:]
        for shard in shards.sorted() {
            let path = folder + "/" + shard
            guard FileManager.default.fileExists(atPath: path) else { throw RuntimeError.missingShard(index: indexPath, shard: shard) }
            let file = try ModelFile(path: path)
            guard file.format == .safetensors else {
                throw RuntimeError.badArgument("\(path): not a safetensors file (at byte 0)")
            }
            files[shard] = file
        }
        for (tensor, shard) in assigned where files[shard]?.info(named: tensor) == nil {
            throw RuntimeError.tensorInOtherShard(index: indexPath, tensor: tensor, listed: shard)
        }
        return shards.sorted().compactMap { files[$0] }
    }
}
