import Foundation
import PruneFormats

/// A restraint written down: `prune-eval --choose` writes the one it chose, `prune-apply
/// --restraint-file` applies it (and records it in the sidecar like one given as options).
///
///     {"kind": "prune-restraint", "restraint": "log", "alpha": 2, "schedule": "end", …}
///
/// `restraint` is `log`, `linear` or `none`; `alpha` (> 1) goes with `log` only (default e);
/// `schedule` is `end` (default) or `each`. Other members (how the restraint was chosen) are
/// left to the reader.
public enum RestraintFile {
    public static let kind = "prune-restraint"

    /// The members that say the restraint, in the file's order.
    public static func members(function: RestraintFunction, schedule: RestraintSchedule) -> [JSONNodeMember] {
        var m: [JSONNodeMember] = [.init(key: "kind", value: .string(kind))]
        switch function {
        case .log(let base):
            m.append(.init(key: "restraint", value: .string("log")))
            m.append(.init(key: "alpha", value: .double(base)))
        case .linear: m.append(.init(key: "restraint", value: .string("linear")))
        case .none: m.append(.init(key: "restraint", value: .string("none")))
        }
        m.append(.init(key: "schedule", value: .string(schedule.rawValue)))
        return m
    }

    public static func read(path: String) throws -> (function: RestraintFunction, schedule: RestraintSchedule) {
        func bad(_ what: String) -> RestraintError { .badRestraintFile(path: path, what: what) }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw bad(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file")
        }
        let node: JSONNode
        do { node = try JSONNodeParser.parse(bytes) } catch let e as JSONNodeParser.Failure {
            throw bad("invalid JSON at byte \(e.offset): \(e.message)")
        }
        guard case .object = node else { throw bad("not a JSON object") }
        guard node["kind"]?.stringValue == kind else { throw bad("\"kind\" must be \"\(kind)\"") }
        guard let name = node["restraint"]?.stringValue else { throw bad("\"restraint\" must be \"log\", \"linear\" or \"none\"") }
        let function: RestraintFunction
        switch name {
        case "log":
            var alpha = M_E
            if let a = node["alpha"] {
                guard let v = a.doubleValue, v.isFinite, v > 1 else { throw bad("\"alpha\" must be a number > 1") }
                alpha = v
            }
            function = .log(base: alpha)
        case "linear", "none":
            if node["alpha"] != nil { throw bad("\"alpha\" goes with \"restraint\": \"log\" only") }
            function = name == "linear" ? .linear : .none
        default: throw bad("\"restraint\" must be \"log\", \"linear\" or \"none\", not \"\(name)\"")
        }
        var schedule = RestraintSchedule.end
        if let s = node["schedule"] {
            guard let text = s.stringValue, let v = RestraintSchedule(rawValue: text) else {
                throw bad("\"schedule\" must be \"end\" or \"each\"")
            }
            schedule = v
        }
        return (function, schedule)
    }
}
