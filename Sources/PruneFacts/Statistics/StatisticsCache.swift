import Foundation
import PruneFormats
import PruneKit

/// Where computed statistics are kept between runs: `$PRUNE_CACHE`, else `$XDG_CACHE_HOME/prune`,
/// else `~/.cache/prune`. An entry is named by the SHA-256 of its `Key` (everything its bits depend
/// on), holds that key in its metadata and the SHA-256 of its sum and count: an entry whose key or
/// content does not match is never used (the caller recomputes it, with a warning).
public struct StatisticsCache: Sendable {
    public var folder: String

    public init(folder: String) { self.folder = folder }

    /// Everything cached statistics depend on.
    public struct Key: Sendable, Equatable {
        /// `StatisticsIdentity.modelHash`: the weights the keys depend on.
        public var modelHash: String
        /// `StatisticsIdentity.networkHash`: the rest of the network's definition (norms, activation, attention).
        public var network: String
        /// `TokenizerLoader.identity`: the files the tokenizer was read from.
        public var tokenizer: String
        public var layer: Int
        public var textSHA256: String
        public var docTokens: Int
        public var maxTokens: Int
        public var maxDocuments: Int
        /// The OpenBLAS kernel family (`BLASCore.name`): another family sums in another order.
        public var arithmetic: String

        public init(modelHash: String, network: String, tokenizer: String, layer: Int, textSHA256: String, docTokens: Int,
                    maxTokens: Int, maxDocuments: Int, arithmetic: String) {
            self.modelHash = modelHash
            self.network = network
            self.tokenizer = tokenizer
            self.layer = layer
            self.textSHA256 = textSHA256
            self.docTokens = docTokens
            self.maxTokens = maxTokens
            self.maxDocuments = maxDocuments
            self.arithmetic = arithmetic
        }

        /// The key as one line (stored in the entry's metadata, hashed for its name). v3: the sums of
        /// chunks of 64 documents added exactly (`ExactKeySum`), other bits than v2's running f64 sum.
        public var text: String {
            "v3|model \(modelHash)|network \(network)|tokenizer \(tokenizer)|layer \(layer)|text \(textSHA256)|doc_tokens \(docTokens)"
                + "|max_tokens \(maxTokens)|max_documents \(maxDocuments)|blas \(arithmetic)"
        }
    }

    /// What a look-up found.
    public enum Lookup: Sendable {
        case hit(KeyStatistics)
        case miss
        /// An entry exists under the key's name but cannot be used (why); it is recomputed.
        case rejected(String)
    }

    /// The folder from the environment (`environment` defaults to the process's).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> StatisticsCache {
        if let p = environment["PRUNE_CACHE"], !p.isEmpty { return StatisticsCache(folder: p) }
        if let x = environment["XDG_CACHE_HOME"], !x.isEmpty { return StatisticsCache(folder: x + "/prune") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return StatisticsCache(folder: home + "/.cache/prune")
    }

    /// The metadata entry holding an entry's key.
    static let keyMetadata = "prune_cache_key"

    /// The cache file for one key.
    public func path(_ key: Key) -> String {
        let h = SHA256Hasher.hex(Array(key.text.utf8))
        return folder + "/stats-L\(key.layer)-\(h.prefix(32)).safetensors"
    }

    /// The cached statistics of `key`: used only when the entry records the same key, its content
    /// hash matches, and its identity (layer, model hash, one source with the key's text and caps)
    /// agrees.
    public func load(_ key: Key) -> Lookup {
        let p = path(key)
        guard FileManager.default.fileExists(atPath: p) else { return .miss }
        let s: KeyStatistics, meta: [String: String]
        do { (s, meta) = try KeyStatisticsFile.readWithMetadata(path: p, requireContentHash: true) } catch {
            return .rejected((error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        guard meta[Self.keyMetadata] == key.text else {
            return .rejected("\(p): the entry was computed for another model, tokenizer, text, caps or BLAS kernels")
        }
        let src = s.sources.first
        guard s.layer == key.layer, s.modelHash == key.modelHash, s.sources.count == 1, src?.textSHA256 == key.textSHA256,
              src?.docTokens == key.docTokens, src?.maxTokens == key.maxTokens, src?.maxDocuments == key.maxDocuments else {
            return .rejected("\(p): the entry's statistics do not match its key")
        }
        return .hit(s)
    }

    /// Stores statistics under `key` (without the exact sum: an edit reads only the f64 one); a cache
    /// that cannot be written is not an error (returns false).
    @discardableResult
    public func store(_ s: KeyStatistics, key: Key) -> Bool {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try KeyStatisticsFile.write(s, to: path(key), metadata: [Self.keyMetadata: key.text], withExact: false)
            return true
        } catch { return false }
    }
}
