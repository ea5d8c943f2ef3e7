import Foundation
import PruneFacts
import PruneFormats
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

    /// Whether a manifest file holds a fact line (rome, memit, alphaedit or a CounterFact record), read
    /// leniently: a file that is not a JSONL manifest (a sidecar to replay, a bad manifest) has none
    /// here, and the real parser reports whatever is wrong with it.
    static func hasFactLines(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let json = try? JSONNodeParser.parse([UInt8](line)) else { continue }
            let kind = json["kind"]?.stringValue
            if ManifestEdit.factKinds.contains(kind ?? "") || (json["kind"] == nil && json["requested_rewrite"] != nil) { return true }
        }
        return false
    }
}
