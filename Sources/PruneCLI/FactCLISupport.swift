import Foundation
import PruneFacts
import PruneKit

/// The fact engine as the commands that compute edits set it up (`--hparams`, `--stats-text`).
enum FactCLISupport {
    static func engine(hparams: String?, statsText: String?, tool: String) throws -> FactEngine {
        let source = try hparams.map { try HyperparameterFile.load(path: $0) }
        if let s = statsText, !FileManager.default.fileExists(atPath: s) {
            throw FactError.badStatisticsText(path: s, reason: "no such file")
        }
        return FactEngine(hparamsFile: source, statsText: statsText, cache: .fromEnvironment())
    }
}
