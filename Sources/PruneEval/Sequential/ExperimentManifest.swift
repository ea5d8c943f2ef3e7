import PruneFacts
import PruneFormats

/// The edit manifest of an experiment: fact lines for the requests in order, one `rome` line per
/// request, or one `memit`/`alphaedit` line per batch. Line i (0-based) is edit i of the chain.
package enum ExperimentManifest {
    package static func text(_ records: [CounterFactRecord], method: FactMethod, batch: Int) -> String {
        func request(_ r: CounterFactRecord) -> [JSONNodeMember] {
            [.init(key: "prompt", value: .string(r.prompt)), .init(key: "subject", value: .string(r.subject)),
             .init(key: "target", value: .string(r.targetNew)), .init(key: "target_true", value: .string(r.targetTrue)),
             .init(key: "case_id", value: .int(r.caseID))]
        }
        var out = ""
        switch method {
        case .rome:
            for (i, r) in records.enumerated() {
                let line: [JSONNodeMember] = [.init(key: "kind", value: .string("rome")), .init(key: "id", value: .string("edit-\(i + 1)"))]
                    + request(r)
                out += JSONNode.object(line).serialized() + "\n"
            }
        case .memit, .alphaedit:
            var start = 0
            while start < records.count {
                let chunk = records[start..<min(start + batch, records.count)]
                let line: [JSONNodeMember] = [.init(key: "kind", value: .string(method.rawValue)),
                                              .init(key: "id", value: .string("batch-\(start / batch + 1)")),
                                              .init(key: "requests", value: .array(chunk.map { .object(request($0)) }))]
                out += JSONNode.object(line).serialized() + "\n"
                start += batch
            }
        }
        return out
    }
}
