import Foundation

/// Everything that can go wrong computing edits from facts. Every message is one line naming the
/// file and the place (`<manifest>:<line>: …`, `<hparams file>: key …`, `<stats file>: …`).
public enum FactError: LocalizedError, Equatable, Sendable {
    /// A request of a manifest line is malformed (`what` says how).
    case badRequest(manifest: String, line: Int, what: String)
    /// A hyperparameter (from a file or a line's `"hparams"`) is malformed or out of range.
    case badHyperparameter(source: String, key: String, what: String)
    /// A hyperparameter file cannot be read or parsed.
    case unreadableHyperparameters(path: String, reason: String)
    /// A module template (`rewrite_module_tmp`, …) that prune does not know for the model.
    case unknownModuleTemplate(source: String, key: String, template: String, expected: String)
    /// A statistics text or file cannot be read, or holds nothing usable.
    case badStatisticsText(path: String, reason: String)
    case badStatisticsFile(path: String, reason: String)
    /// Statistics that do not belong together or to the edit (different layer, width or model).
    case statisticsMismatch(path: String, reason: String)
    /// A request that cannot be placed on this model (subject not in the text, layer out of range, …).
    case unplaceable(manifest: String, line: Int, what: String)
    /// A numerical failure (a singular system, a non-finite loss) while computing a line's edit.
    case numerical(manifest: String, line: Int, what: String)
    /// The model cannot run the method (no tokenizer, unknown architecture, …).
    case unsupportedModel(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .badRequest(let m, let l, let w): return "\(m):\(l): \(w)"
        case .badHyperparameter(let s, let k, let w): return "\(s): hyperparameter \(k): \(w)"
        case .unreadableHyperparameters(let p, let r): return "\(p): cannot read hyperparameters: \(r)"
        case .unknownModuleTemplate(let s, let k, let t, let e):
            return "\(s): hyperparameter \(k): unknown module template \"\(t)\" for this model (expected \"\(e)\")"
        case .badStatisticsText(let p, let r): return "\(p): statistics text: \(r)"
        case .badStatisticsFile(let p, let r): return "\(p): statistics file: \(r)"
        case .statisticsMismatch(let p, let r): return "\(p): statistics do not match: \(r)"
        case .unplaceable(let m, let l, let w): return "\(m):\(l): \(w)"
        case .numerical(let m, let l, let w): return "\(m):\(l): \(w)"
        case .unsupportedModel(let p, let r): return "\(p): \(r)"
        }
    }
}
