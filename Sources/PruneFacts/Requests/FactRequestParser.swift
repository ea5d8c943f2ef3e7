import Foundation
import PruneFormats
import PruneKit

/// Reads fact lines of a manifest (prune-manifest(5)):
///
/// - `{"kind": "rome", "prompt": "… {} …", "subject": …, "target": …}`; `target_new` (a string or
///   `{"str": …}`) may stand for `target`; a whole CounterFact record (`case_id`,
///   `requested_rewrite`, …) is a `rome` line, with or without `"kind"`;
/// - `{"kind": "memit" | "alphaedit", "requests": [ … ]}`, each request in any of those forms;
/// - any line may carry `"hparams": {…}`.
public enum FactRequestParser {
    /// Fields a fact line may have besides the request itself.
    static let lineFields: Set<String> = ["kind", "id", "hparams"]
    static let requestFields: Set<String> = ["prompt", "subject", "target", "target_new", "target_true", "case_id"]
    /// The other fields of a CounterFact record (read past, not used).
    static let counterFactFields: Set<String> = ["case_id", "pararel_idx", "requested_rewrite", "paraphrase_prompts",
                                                 "neighborhood_prompts", "attribute_prompts", "generation_prompts"]

    /// Whether a line (already parsed) is a fact line: its kind is a fact method, or it has no kind
    /// and is a CounterFact record.
    public static func isFactLine(_ json: JSONNode) -> Bool {
        if let k = json["kind"]?.stringValue { return FactMethod(rawValue: k) != nil }
        return json["kind"] == nil && json["requested_rewrite"] != nil
    }

    public static func parse(_ json: JSONNode, manifest: String, line: Int) throws -> FactEditSpec {
        func bad(_ what: String) -> FactError { .badRequest(manifest: manifest, line: line, what: what) }
        guard case .object(let members) = json else { throw bad("a fact line must be a JSON object") }
        let method: FactMethod
        switch json["kind"] {
        case nil: method = .rome
        case .string(let k)?:
            guard let m = FactMethod(rawValue: k) else { throw bad("unknown kind \"\(k)\"") }
            method = m
        default: throw bad("\"kind\" must be a string")
        }
        var hparams: JSONNode?
        if let h = json["hparams"] {
            guard case .object = h else { throw bad("\"hparams\" must be an object") }
            hparams = h
        }
        switch method {
        case .rome:
            let allowed = lineFields.union(requestFields).union(counterFactFields)
            for m in members where !allowed.contains(m.key) {
                throw bad("unknown field \"\(m.key)\" in a rome line")
            }
            let request = try parseRequest(json, place: "", bad: bad, ignoring: lineFields)
            return FactEditSpec(method: .rome, requests: [request], hparams: hparams, manifest: manifest, line: line)
        case .memit, .alphaedit:
            for m in members where !(lineFields.contains(m.key) || m.key == "requests") {
                throw bad("unknown field \"\(m.key)\" in a \(method.rawValue) line")
            }
            guard let r = json["requests"] else { throw bad("a \(method.rawValue) line needs \"requests\"") }
            guard case .array(let items) = r, !items.isEmpty else {
                throw bad("\"requests\" must be a non-empty array of requests")
            }
            var requests: [FactRequest] = []
            for (i, item) in items.enumerated() {
                guard case .object(let fields) = item else { throw bad("requests[\(i)] must be an object") }
                for f in fields where !(requestFields.contains(f.key) || counterFactFields.contains(f.key)) {
                    throw bad("unknown field \"\(f.key)\" in requests[\(i)]")
                }
                requests.append(try parseRequest(item, place: "requests[\(i)].", bad: bad, ignoring: []))
            }
            return FactEditSpec(method: method, requests: requests, hparams: hparams, manifest: manifest, line: line)
        }
    }

    /// One request: either the plain fields or a CounterFact `requested_rewrite`.
    static func parseRequest(_ json: JSONNode, place: String, bad: (String) -> FactError,
                             ignoring: Set<String>) throws -> FactRequest {
        var caseID: Int?
        if let c = json["case_id"] {
            guard let v = c.nonNegativeInt else { throw bad("\(place)case_id must be a non-negative integer") }
            caseID = v
        }
        var source = json
        var prefix = place
        if let rw = json["requested_rewrite"] {
            guard case .object = rw else { throw bad("\(place)requested_rewrite must be an object") }
            for key in ["prompt", "subject", "target", "target_new"] where json[key] != nil {
                throw bad("\(place)\(key) given both beside and inside requested_rewrite")
            }
            source = rw
            prefix = place + "requested_rewrite."
        }
        func string(_ key: String) throws -> String? {
            guard let v = source[key] else { return nil }
            guard let s = v.stringValue else { throw bad("\(prefix)\(key) must be a string") }
            return s
        }
        guard let promptText = try string("prompt") else { throw bad("\(prefix)prompt is missing") }
        guard let subject = try string("subject") else { throw bad("\(prefix)subject is missing") }
        guard !subject.trimmingCharacters(in: .whitespaces).isEmpty else { throw bad("\(prefix)subject is empty") }
        var target: String?
        if let t = try string("target") { target = t }
        if let tn = source["target_new"] {
            guard target == nil else { throw bad("\(prefix)target and target_new are both given") }
            switch tn {
            case .string(let s): target = s
            case .object:
                guard let s = tn["str"]?.stringValue else { throw bad("\(prefix)target_new.str must be a string") }
                target = s
            default: throw bad("\(prefix)target_new must be a string or {\"str\": …}")
            }
        }
        guard var t = target else { throw bad("\(prefix)target is missing") }
        // ROME writes the target after a space; a leading space given here is the same target.
        while t.hasPrefix(" ") { t.removeFirst() }
        guard !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw bad("\(prefix)target is empty") }
        let prompt = try template(promptText, subject: subject, place: "\(prefix)prompt", bad: bad)
        return FactRequest(prompt: prompt, subject: subject, target: t, caseID: caseID)
    }

    /// A prompt template with exactly one `{}`. A prompt written out with the subject in it (no `{}`)
    /// is accepted by putting `{}` where the subject occurs.
    static func template(_ text: String, subject: String, place: String, bad: (String) -> FactError) throws -> String {
        let count = text.components(separatedBy: "{}").count - 1
        if count == 1 { return text }
        if count > 1 { throw bad("\(place) has \(count) \"{}\"; it needs exactly one, where the subject goes") }
        guard let r = text.range(of: subject) else {
            throw bad("\(place) has no \"{}\" and the subject \"\(subject)\" does not occur in it")
        }
        return text.replacingCharacters(in: r, with: "{}")
    }
}
