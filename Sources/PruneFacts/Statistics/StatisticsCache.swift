import Foundation
import PruneFormats
import PruneKit

/// Where computed statistics are kept between runs: `$PRUNE_CACHE`, else `$XDG_CACHE_HOME/prune`,
/// else `~/.cache/prune`; one file per (model hash, layer, text hash, caps).
public struct StatisticsCache: Sendable {
    public var folder: String

    public init(folder: String) { self.folder = folder }

    /// The folder from the environment (`environment` defaults to the process's).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> StatisticsCache {
        if let p = environment["PRUNE_CACHE"], !p.isEmpty { return StatisticsCache(folder: p) }
        if let x = environment["XDG_CACHE_HOME"], !x.isEmpty { return StatisticsCache(folder: x + "/prune") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return StatisticsCache(folder: home + "/.cache/prune")
    }

    /// The cache file for one set of statistics.
    public func path(modelHash: String, layer: Int, textSHA256: String, docTokens: Int, maxTokens: Int,
                     maxDocuments: Int) -> String {
        let key = "\(modelHash)|\(layer)|\(textSHA256)|\(docTokens)|\(maxTokens)|\(maxDocuments)"
        let h = SHA256Hasher.hex(Array(key.utf8))
        return folder + "/stats-L\(layer)-\(h.prefix(24)).safetensors"
    }

    /// The cached statistics, or nil when there is none (or it is unreadable: it is recomputed).
    public func load(_ path: String) -> KeyStatistics? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try? KeyStatisticsFile.read(path: path)
    }

    /// Stores statistics; a cache that cannot be written is not an error (returns false).
    @discardableResult
    public func store(_ s: KeyStatistics, at path: String) -> Bool {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try KeyStatisticsFile.write(s, to: path)
            return true
        } catch { return false }
    }
}
