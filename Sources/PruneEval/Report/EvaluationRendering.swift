import Foundation

/// The table `prune-eval` prints for people.
extension EvaluationReport {
    package func text() -> String {
        var rows: [[String]] = []
        let withBase = base != nil
        rows.append(withBase ? ["", "model", "base", "change"] : ["", "value"])
        func add(_ label: String, _ a: Double?, _ b: Double?, _ format: (Double) -> String) {
            let fa = a.map(format) ?? "-"
            if withBase {
                let fb = b.map(format) ?? "-"
                let d: String
                if let a, let b, a.isFinite, b.isFinite {
                    let v = format(a - b)
                    d = (a - b >= 0 && !v.hasPrefix("-")) ? "+" + v : v
                } else { d = "-" }
                rows.append([label, fa, fb, d])
            } else {
                rows.append([label, fa])
            }
        }
        let fixed3 = { (v: Double) in String(format: "%.3f", v) }
        let fixed4 = { (v: Double) in String(format: "%.4f", v) }
        let general = { (v: Double) in Self.general(v) }
        let m = model, b = base
        if let s = m.summary {
            let t = b?.summary
            add("efficacy success", s.efficacySuccess, t?.efficacySuccess, fixed3)
            add("efficacy magnitude", s.efficacyMagnitude, t?.efficacyMagnitude, fixed4)
            add("paraphrase success", s.paraphraseSuccess, t?.paraphraseSuccess, fixed3)
            add("paraphrase magnitude", s.paraphraseMagnitude, t?.paraphraseMagnitude, fixed4)
            add("neighborhood success", s.neighborhoodSuccess, t?.neighborhoodSuccess, fixed3)
            add("neighborhood magnitude", s.neighborhoodMagnitude, t?.neighborhoodMagnitude, fixed4)
            add("score", s.score, t?.score, fixed3)
        }
        if let p = m.perplexity {
            add("perplexity", p.perplexity, b?.perplexity?.perplexity, fixed3)
        }
        for (i, t) in m.tasks.enumerated() {
            let u = b.flatMap { i < $0.tasks.count ? $0.tasks[i] : nil }
            let name = (t.path as NSString).lastPathComponent
            add("accuracy \(name)", t.accuracy, u?.accuracy, fixed3)
            add("accuracy_norm \(name)", t.accuracyNormalized, u?.accuracyNormalized, fixed3)
        }
        if let f = m.fluency {
            add("n-gram entropy", f.ngramEntropy, b?.fluency?.ngramEntropy, fixed3)
        }
        for (i, c) in m.conditioning.enumerated() {
            let d = b.flatMap { i < $0.conditioning.count ? $0.conditioning[i] : nil }
            add("κ \(c.tensor)", c.kappa, d?.kappa, general)
            add("σmax \(c.tensor)", c.sigmaMax, d?.sigmaMax, general)
        }
        var out = "model: \(m.model)\n"
        if let b { out += "base: \(b.model)\n" }
        var notes: [String] = []
        if let s = m.summary { notes.append("\(s.count) request\(s.count == 1 ? "" : "s")") }
        if let p = m.perplexity { notes.append("perplexity over \(p.documents) documents, \(p.tokens) tokens") }
        for t in m.tasks { notes.append("\((t.path as NSString).lastPathComponent): \(t.questions) questions") }
        if let f = m.fluency { notes.append("\(f.texts.count) generations of \(f.maxTokens) tokens") }
        if !notes.isEmpty { out += notes.joined(separator: "; ") + "\n" }
        out += Self.table(rows)
        return out
    }

    /// Six significant digits, no exponent below 1e6.
    static func general(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        let a = abs(v)
        if a != 0, a >= 1e6 || a < 1e-4 { return String(format: "%.4e", v) }
        var s = String(format: "%.6g", v)
        if s.contains("e") { s = String(format: "%.4e", v) }
        return s
    }

    /// Left-aligned label columns (the first `left`), right-aligned numbers, two spaces between columns.
    static func table(_ rows: [[String]], left: Int = 1) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in rows {
            var line = ""
            for (i, c) in r.enumerated() {
                if i < left {
                    line += (i == 0 ? "" : "  ") + c + String(repeating: " ", count: widths[i] - c.count)
                } else {
                    line += "  " + String(repeating: " ", count: widths[i] - c.count) + c
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
