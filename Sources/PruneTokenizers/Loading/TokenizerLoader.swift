import Foundation
import PruneFormats

/// The one entry point: a tokenizer from a Hugging Face model folder or a GGUF file.
public enum TokenizerLoader {
    /// Loads the tokenizer of `path`:
    /// - a folder: `tokenizer.model` when the model is SentencePiece (it has one and its
    ///   tokenizer.json, if any, is SentencePiece-style), else `tokenizer.json`; BOS/EOS settings
    ///   from `tokenizer_config.json`;
    /// - a file inside such a folder (`config.json`, `model.safetensors`, `tokenizer.json`, …): its folder;
    /// - a `.gguf` file, plain or zstd-compressed (`.gguf.zst`): its `tokenizer.ggml.*` metadata.
    public static func load(path: String) throws -> Tokenizer {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw TokenizerError.notFound(path: path) }
        if isDir.boolValue { return try loadFolder(path) }
        let lower = path.lowercased()
        let folderFiles = [".json", ".model", ".safetensors", ".safetensors.zst"]
        if folderFiles.contains(where: { lower.hasSuffix($0) }) {
            return try loadFolder((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        }
        let stream = try ModelInput.open(path)
        let format = try ModelInput.detectFormat(stream)
        guard format == .gguf else {
            throw TokenizerError.notATokenizerSource(path: path, detail: "a \(format) file; give its folder")
        }
        let header = try GGUFParser.parseHeader(stream)
        return try GGUFTokenizerLoader.load(path: path, header: header)
    }

    /// The SHA-256 of what `load(path:)` reads: a folder's tokenizer files (tokenizer.json,
    /// tokenizer.model, tokenizer_config.json, special_tokens_map.json; a missing one counts as
    /// missing), or a GGUF file's header (its metadata holds the vocabulary). Two tokenizers with the
    /// same identity encode every text alike (what caches of tokenized results are keyed by).
    public static func identity(path: String) throws -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw TokenizerError.notFound(path: path) }
        let lower = path.lowercased()
        let folderFiles = [".json", ".model", ".safetensors", ".safetensors.zst"]
        if isDir.boolValue || folderFiles.contains(where: { lower.hasSuffix($0) }) {
            let folder = isDir.boolValue ? path
                : ((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
            let h = SHA256Hasher()
            for name in ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"] {
                if let data = fm.contents(atPath: folder + "/" + name) {
                    h.update(Array("\(name) \(data.count)\n".utf8))
                    data.withUnsafeBytes { h.update($0) }
                } else {
                    h.update(Array("\(name) absent\n".utf8))
                }
            }
            return h.finalizeHex()
        }
        let header = try GGUFParser.parseHeader(try ModelInput.open(path))
        let bytes = try ModelInput.open(path).read(header.dataStart, what: "the GGUF header")
        return SHA256Hasher.hex(bytes)
    }

    static func loadFolder(_ folder: String) throws -> Tokenizer {
        let fm = FileManager.default
        let jsonPath = folder + "/tokenizer.json"
        let modelPath = folder + "/tokenizer.model"
        let hasJSON = fm.fileExists(atPath: jsonPath)
        let hasModel = fm.fileExists(atPath: modelPath)
        guard hasJSON || hasModel else {
            throw TokenizerError.missingTokenizerFiles(folder: folder, expected: ["tokenizer.json", "tokenizer.model"])
        }
        let config = try HFTokenizerConfig.read(folder: folder)
        if hasModel {
            var added: [AddedToken] = []
            var sentencePieceStyle = true
            if hasJSON {
                let root = JSONField.root(try JSONFile.read(jsonPath), file: jsonPath)
                sentencePieceStyle = try isSentencePieceStyle(root)
                for f in try root["added_tokens"]?.array() ?? [] {
                    let id = try f.require("id").int()
                    guard id >= 0, id < Int(Int32.max) else { throw f.error("token id \(id) out of range") }
                    added.append(AddedToken(id: Int32(id), content: Array(try f.require("content").string().utf8),
                                            special: try f.bool("special", default: false),
                                            lstrip: try f.bool("lstrip", default: false), rstrip: try f.bool("rstrip", default: false),
                                            singleWord: try f.bool("single_word", default: false), normalized: false))
                }
            }
            if sentencePieceStyle { return try SentencePieceLoader.load(path: modelPath, config: config, addedTokens: added) }
        }
        return try HFTokenizerJSONLoader.load(path: jsonPath, config: config)
    }

    /// A tokenizer.json converted from SentencePiece: BPE with byte fallback, or a Metaspace
    /// pre-tokenizer, or a `▁` Prepend normalizer.
    static func isSentencePieceStyle(_ root: JSONField) throws -> Bool {
        if try root["model"]?.bool("byte_fallback", default: false) == true { return true }
        func mentions(_ f: JSONField?, _ types: Set<String>) -> Bool {
            guard let f else { return false }
            if case .string(let t)? = f.node["type"], types.contains(t) { return true }
            if case .object(let members) = f.node {
                return members.contains { m in
                    if case .array(let items) = m.value { return items.contains { mentions(JSONField(node: $0, place: "", file: ""), types) } }
                    return false
                }
            }
            return false
        }
        return mentions(root["pre_tokenizer"], ["Metaspace"]) || mentions(root["normalizer"], ["Prepend"])
    }
}
