import Foundation

/// The files a tool reads when it is given a model path: inputs of the run, that no output may
/// replace (`RunPaths`).
package enum ModelInputFiles {
    /// The files beside the weights of a Hugging Face model that the runtime, the tokenizers and the
    /// tensor naming read (each when present).
    package static let companionNames = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer.model",
                                         "tokenizer_config.json", "special_tokens_map.json"]

    /// The files read for the model at `path`, each with how messages describe it:
    /// - a folder: its weights (`model.safetensors`, `model.safetensors.zst`, every
    ///   `*.safetensors.index.json` and the shards it names; with `wholeFolder`, every regular file of
    ///   the folder, as prune-apply copies them all into its output folder) and the companion files;
    /// - a GGUF file (`.gguf`, `.gguf.zst`): the file alone (its metadata holds config and tokenizer);
    /// - any other file (safetensors): the file and the companion files in its folder.
    /// Files that do not exist are left out; "-" (standard input) gives nothing.
    package static func files(of path: String, wholeFolder: Bool = false) -> [(path: String, what: String)] {
        guard path != "-" else { return [] }
        if CheckpointFolder.isFolder(path) {
            var names: [String]
            if wholeFolder {
                names = CheckpointFolder.regularFiles(under: path)
            } else {
                names = ["model.safetensors", "model.safetensors.zst"] + companionNames
                let entries = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                for index in entries where index.hasSuffix(".safetensors.index.json") && !index.hasPrefix(".") {
                    names.append(index)
                    names += shardNames(index: CheckpointFolder.join(path, index))
                }
            }
            return names.map { CheckpointFolder.join(path, $0) }.filter { FileManager.default.fileExists(atPath: $0) }
                .map { ($0, "a file of the model folder \(path)") }
        }
        var out = [(path: path, what: "the model")]
        let lower = path.lowercased()
        guard !lower.hasSuffix(".gguf"), !lower.hasSuffix(".gguf.zst") else { return out }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        for name in companionNames {
            let p = CheckpointFolder.join(folder.isEmpty ? "/" : folder, name)
            if FileManager.default.fileExists(atPath: p) { out.append((p, "\(name) beside the model")) }
        }
        return out
    }

    /// The shard file names an index lists (and their `.zst` forms), read leniently: the loader
    /// reports what is wrong with a bad index.
    static func shardNames(index: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: index),
              let root = try? JSONNodeParser.parse([UInt8](data)), case .object(let map)? = root["weight_map"] else { return [] }
        var names: [String] = []
        for m in map {
            guard let shard = m.value.stringValue, CheckpointFolder.isPlainName(shard), !names.contains(shard) else { continue }
            names += [shard, shard + ".zst"]
        }
        return names
    }
}
