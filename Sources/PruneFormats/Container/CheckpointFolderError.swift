import Foundation

/// Errors of reading a sharded checkpoint folder (`CheckpointFolder`) or a split GGUF file.
public enum CheckpointFolderError: LocalizedError, Sendable, Equatable {
    case notAFolder(path: String)
    case noIndex(path: String)
    case severalIndexes(path: String, names: [String])
    case unreadable(path: String, reason: String)
    case badIndex(path: String, reason: String)
    case badShardName(path: String, shard: String)
    case missingShard(path: String, shard: String)
    case notRegularFile(path: String)
    case notSafetensors(path: String)
    case tensorNotInShard(path: String, tensor: String, shard: String)
    case tensorNotInIndex(path: String, tensor: String)
    case duplicateTensor(path: String, tensor: String, shards: [String])
    case splitGGUF(path: String, parts: Int)
    case outputExists(path: String)

    public var errorDescription: String? { oneLineMessage(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .notAFolder(let p): return "\(p): not a folder"
        case .noIndex(let p):
            return "\(p): neither model.safetensors nor a *.safetensors.index.json is in this folder (give a model file, a Hugging Face folder, or a sharded checkpoint folder)"
        case .severalIndexes(let p, let n): return "\(p): several index files (\(n.joined(separator: ", "))); expected one"
        case .unreadable(let p, let r): return "\(p): cannot read (\(r))"
        case .badIndex(let p, let r): return "\(p): not a valid checkpoint index (\(r))"
        case .badShardName(let p, let s):
            return "\(p): weight_map names a shard '\(s)' that is not a plain .safetensors file name in the folder (weight_map)"
        case .missingShard(let p, let s): return "\(p): shard '\(s)' named by the index does not exist (weight_map)"
        case .notRegularFile(let p): return "\(p): not a regular file"
        case .notSafetensors(let p): return "\(p): a shard must be a safetensors file (at byte 0)"
        case .tensorNotInShard(let p, let t, let s):
            return "\(p): the index puts tensor '\(t)' in shard '\(s)', which does not hold it (weight_map)"
        case .tensorNotInIndex(let p, let t): return "\(p): tensor '\(t)' is not listed in the index (weight_map)"
        case .duplicateTensor(let p, let t, let s):
            return "\(p): tensor '\(t)' is stored in several shards (\(s.joined(separator: ", ")))"
        case .splitGGUF(let p, let n):
            return "\(p): a split GGUF model (\(n) parts) is not supported; merge it first with llama-gguf-split --merge (split.count)"
        case .outputExists(let p): return "\(p): output folder already exists and is not empty (-o)"
        }
    }
}
