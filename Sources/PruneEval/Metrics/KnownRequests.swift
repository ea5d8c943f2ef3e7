import Foundation
import PruneFormats

/// The requests a model already knows, the ones an editing experiment should edit (issue 21): after
/// the rewrite prompt, the true target is preferred to the new one (a lower CounterFact score, the
/// mean negative log-probability of its tokens), and the true target's first token is among the
/// model's `top` most likely next tokens.
package struct KnownRequests {
    /// The true target's first token must rank below this (1: it is the argmax).
    package var top: Int
    package var chunkSize: Int

    package init(top: Int = 10, chunkSize: Int = 16) {
        self.top = max(1, top)
        self.chunkSize = max(1, chunkSize)
    }

    package struct Verdict: Sendable, Equatable {
        package var caseID: Int
        package var line: Int
        /// CounterFact scores after the rewrite prompt (lower is preferred).
        package var trueScore: Double
        package var newScore: Double
        /// How many next tokens the model finds likelier than the true target's first token.
        package var rank: Int
        package var known: Bool
    }

    package func evaluate(_ records: [CounterFactRecord], model: any EvaluationModel, path: String,
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> [Verdict] {
        var scoring = CandidateScoring(model: model)
        var verdicts: [Verdict] = []
        verdicts.reserveCapacity(records.count)
        var start = 0
        while start < records.count {
            let chunk = Array(records[start..<min(start + chunkSize, records.count)])
            var items: [ContinuationItem] = []
            for r in chunk {
                for c in [r.targetTrue, r.targetNew] {
                    items.append(try scoring.checkedItem(prompt: r.rewritePrompt, candidate: c, path: path, line: r.line))
                }
            }
            let lps = try model.checkedLogProbabilities(items, what: "continuations")
            let trueItems = stride(from: 0, to: items.count, by: 2).map { items[$0] }
            let ranks = try model.nextTokenRanks(trueItems.map(\.context), tokens: trueItems.map { $0.continuation[0] })
            guard ranks.count == chunk.count else { throw EvalError.modelAnswer(what: "\(ranks.count) ranks for \(chunk.count) prompts") }
            for (i, r) in chunk.enumerated() {
                let t = CandidateScoring.score(lps[2 * i]), n = CandidateScoring.score(lps[2 * i + 1])
                guard t.isFinite, n.isFinite else {
                    throw EvalError.nonFinite(model: nil, place: "\(path):\(r.line)", what: "the log-probabilities after \"\(r.rewritePrompt)\" are")
                }
                verdicts.append(Verdict(caseID: r.caseID, line: r.line, trueScore: t, newScore: n, rank: ranks[i],
                                        known: t < n && ranks[i] < top))
            }
            start += chunk.count
            progress(start, records.count)
        }
        return verdicts
    }

    package struct FileResult: Sendable, Equatable {
        package var verdicts: [Verdict]
        /// Records of the file kept (all of their requests known) and read.
        package var kept: Int
        package var total: Int
        /// Per relation ("requested_rewrite"."relation", or "" where there is none): kept and total.
        package var relations: [(relation: String, kept: Int, total: Int)]

        package static func == (a: FileResult, b: FileResult) -> Bool {
            a.verdicts == b.verdicts && a.kept == b.kept && a.total == b.total
                && a.relations.map(\.relation) == b.relations.map(\.relation)
                && a.relations.map(\.kept) == b.relations.map(\.kept) && a.relations.map(\.total) == b.relations.map(\.total)
        }
    }

    /// Keeps the records of `path` (a JSON array or JSON Lines of requests) whose requests the model
    /// all knows, written as they were, one a line, to `output` (temporary file, then rename).
    package func filter(path: String, model: any EvaluationModel, output: String,
                        progress: (Int, Int) -> Void = { _, _ in }) throws -> FileResult {
        let nodes = try JSONRecords.read(path)
        var records: [CounterFactRecord] = []
        var owner: [Int] = []
        for (n, r) in nodes.enumerated() {
            let parsed = try CounterFactReader.parse(r.value, path: path, line: r.line, index: records.count)
            records += parsed
            owner += [Int](repeating: n, count: parsed.count)
        }
        guard !records.isEmpty else { throw EvalError.empty(path: path, what: "no requests") }
        let verdicts = try evaluate(records, model: model, path: path, progress: progress)
        var known = [Bool](repeating: true, count: nodes.count)
        for (i, v) in verdicts.enumerated() where !v.known { known[owner[i]] = false }
        var text = ""
        var order: [String] = []
        var counts: [String: (kept: Int, total: Int)] = [:]
        for (n, r) in nodes.enumerated() {
            let relation = r.value["requested_rewrite"]?["relation"]?.stringValue ?? r.value["relation"]?.stringValue ?? ""
            if counts[relation] == nil { order.append(relation); counts[relation] = (0, 0) }
            counts[relation]!.total += 1
            if known[n] {
                counts[relation]!.kept += 1
                text += r.value.serialized(pretty: false) + "\n"
            }
        }
        try AtomicText.write(text, to: output)
        return FileResult(verdicts: verdicts, kept: known.filter { $0 }.count, total: nodes.count,
                          relations: order.sorted().map { ($0, counts[$0]!.kept, counts[$0]!.total) })
    }
}
