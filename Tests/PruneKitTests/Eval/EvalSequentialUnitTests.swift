import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import PruneEval
@testable import PruneFormats
@testable import PruneKit

@Suite("EvalSequentialParts") struct EvalSequentialUnitTests {
    @Test("arms: functions, schedules, canonical names, chains")
    func arms() throws {
        let arms = try ExperimentArm.parseList("none, log:e,log:2,linear,each:log:e,end:log,LOG:2,log:1.5")
        #expect(arms.map(\.name) == ["none", "log:e", "log:2", "linear", "each:log:e", "log:1.5"])
        #expect(arms.map(\.chain) == ["end", "end", "end", "end", "each:log:e", "end"])
        #expect(arms[4].configuration.schedule == .each)
        #expect(try ExperimentArm(parsing: "each:none").schedule == .end)   // nothing to restrain
        #expect(throws: EvalError.self) { try ExperimentArm(parsing: "log:0.5") }
        #expect(throws: EvalError.self) { try ExperimentArm(parsing: "cubic") }
    }

    @Test("the experiment manifest: one rome line per request, memit lines per batch, read back by the fact parser")
    func manifest() throws {
        let recs = (0..<5).map { CounterFactRecord(caseID: 10 + $0, prompt: "{} speaks", subject: "S\($0)", targetNew: "Welsh", targetTrue: "Greek") }
        let rome = ExperimentManifest.text(recs, method: .rome, batch: 1)
        #expect(rome.split(separator: "\n").count == 5)
        let memit = ExperimentManifest.text(recs, method: .memit, batch: 2)
        let lines = memit.split(separator: "\n")
        #expect(lines.count == 3)
        let first = try JSONNodeParser.parse(Array(lines[0].utf8))
        guard case .array(let reqs)? = first["requests"] else { Issue.record("no requests"); return }
        #expect(reqs.count == 2 && reqs[1]["subject"]?.stringValue == "S1")
        // The evaluation reads its own manifest back.
        let (dir, path) = try EvalTest.write(rome, name: "m.jsonl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CounterFactReader.read(path).map(\.caseID) == [10, 11, 12, 13, 14])
    }

    static func rows() -> [ExperimentRow] {
        var base = ExperimentRow(arm: "base", edits: 0)
        base.perplexity = 40
        base.tasks = [.init(file: "facts & co.jsonl", accuracy: 1, accuracyNorm: 1)]
        base.tensors = [.init(tensor: "w", kappa: 10, sigmaMax: 8, sigmaMaxW0: 8, deltaBefore: [], deltaAfter: [], restrained: 0)]
        var out = [base]
        for (i, arm) in ["none", "log:e", "linear"].enumerated() {
            for n in [10, 25, 50] {
                var r = ExperimentRow(arm: arm, edits: n)
                r.efficacySuccess = 1 - Double(i) * 0.3
                r.paraphraseSuccess = 0.5
                r.neighborhoodSuccess = 0.9
                r.perplexity = i == 0 ? 40 * Double(n) : 41
                r.tasks = [.init(file: "facts & co.jsonl", accuracy: 1 - Double(n) / 100, accuracyNorm: 1)]
                r.tensors = [.init(tensor: "w", kappa: i == 0 ? 1000 * Double(n) : 12, sigmaMax: 9, sigmaMaxW0: 8,
                                   deltaBefore: [100, 50], deltaAfter: [9, 8.5], restrained: 2)]
                out.append(r)
            }
        }
        return out
    }

    final class SVGCollector: NSObject, XMLParserDelegate {
        var elements: [String: Int] = [:]
        var texts: [String] = []
        var root: String?
        var current = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if root == nil { root = name }
            elements[name, default: 0] += 1
            current = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" || name == "title" { texts.append(current) }
            current = ""
        }
    }

    @Test("the plot is well-formed SVG with axes, axis labels, a legend and one line per arm and panel")
    func plot() throws {
        let svg = ExperimentPlot(rows: Self.rows(), arms: ["none", "log:e", "linear"], title: "ROME <test>").svg()
        let parser = XMLParser(data: Data(svg.utf8))
        let c = SVGCollector()
        parser.delegate = c
        #expect(parser.parse(), "XML error: \(String(describing: parser.parserError))")
        #expect(c.root == "svg")
        // Panels: efficacy, paraphrase, neighborhood, perplexity, task accuracy, κ: 3 arms each.
        #expect(c.elements["polyline"] == 18)
        for label in ["number of edits", "none", "log:e", "linear", "base model", "Perplexity", "ROME <test>",
                      "Accuracy: facts & co.jsonl", "perplexity (log scale)", "κ (log scale)", "success rate", "50"] {
            #expect(c.texts.contains(label), "no text \"\(label)\"")
        }
    }

    @Test("rows file: written line by line; resume keeps finished rows, drops a cut line, refuses another experiment")
    func rowsFile() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/rows.jsonl"
        let header: JSONNode = .object([.init(key: "kind", value: .string("experiment")), .init(key: "n", value: .int(1))])
        let rows = Self.rows()
        do {
            let f = try RowsFile(path: path, header: header, resume: false)
            for r in rows.prefix(3) { try f.append(r) }
        }
        #expect(throws: EvalError.self) { try RowsFile(path: path, header: header, resume: false) }
        // An interruption in the middle of a line.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data("{\"kind\": \"checkpoint\", \"arm\": \"no".utf8))
        try h.close()
        do {
            let f = try RowsFile(path: path, header: header, resume: true)
            #expect(f.rows == Array(rows.prefix(3)))
            #expect(f.has(arm: "none", edits: 25) == rows[2])
            try f.append(rows[3])
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5)
        let other: JSONNode = .object([.init(key: "kind", value: .string("experiment")), .init(key: "n", value: .int(2))])
        #expect(throws: EvalError.self) { try RowsFile(path: path, header: other, resume: true) }
    }

    @Test("the table has a line per row with the task accuracy and κ")
    func table() {
        let t = ExperimentTable.text(Self.rows())
        let lines = t.split(separator: "\n")
        #expect(lines.count == 11)
        #expect(lines[0].contains("acc facts & co.jsonl") && lines[0].contains("κ max"))
        #expect(lines[1].hasPrefix("0      base  "))
        #expect(lines[3].contains("none") && lines[3].contains("25000") && lines[3].contains("100 → 9"))
    }
}
