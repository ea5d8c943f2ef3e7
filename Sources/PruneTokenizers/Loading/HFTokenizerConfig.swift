import Foundation

/// The special-token settings of a Hugging Face folder: `tokenizer_config.json` (and
/// `special_tokens_map.json` for token strings it does not name).
struct HFTokenizerConfig {
    /// Explicit `add_bos_token` / `add_eos_token` (transformers rebuilds the post-processor from
    /// them when either is present).
    var addBOS: Bool?
    var addEOS: Bool?
    var bosToken: String?
    var eosToken: String?
    var unkToken: String?

    var explicitBOSEOS: Bool { addBOS != nil || addEOS != nil }

    static func read(folder: String) throws -> HFTokenizerConfig {
        var c = HFTokenizerConfig()
        let fm = FileManager.default
        let mapPath = folder + "/special_tokens_map.json"
        if fm.fileExists(atPath: mapPath) {
            let root = JSONField.root(try JSONFile.read(mapPath), file: mapPath)
            c.bosToken = try root.tokenString("bos_token")
            c.eosToken = try root.tokenString("eos_token")
            c.unkToken = try root.tokenString("unk_token")
        }
        let path = folder + "/tokenizer_config.json"
        if fm.fileExists(atPath: path) {
            let root = JSONField.root(try JSONFile.read(path), file: path)
            if case .object = root.node {} else { throw root.error("expected an object") }
            if root.node["add_bos_token"] != nil { c.addBOS = try root["add_bos_token"]?.bool() ?? false }
            if root.node["add_eos_token"] != nil { c.addEOS = try root["add_eos_token"]?.bool() ?? false }
            c.bosToken = try root.tokenString("bos_token") ?? c.bosToken
            c.eosToken = try root.tokenString("eos_token") ?? c.eosToken
            c.unkToken = try root.tokenString("unk_token") ?? c.unkToken
        }
        return c
    }
}
