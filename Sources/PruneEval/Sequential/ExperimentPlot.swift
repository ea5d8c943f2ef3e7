import Foundation

/// The experiment's curves as an SVG: one panel per metric (editing success, perplexity, task
/// accuracy, κ), the number of edits on x, one line per arm, axes with ticks and labels, a legend.
package struct ExperimentPlot {
    package var rows: [ExperimentRow]
    package var arms: [String]
    package var title: String

    package init(rows: [ExperimentRow], arms: [String], title: String) {
        self.rows = rows
        self.arms = arms
        self.title = title
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    struct Panel {
        var title: String
        var axis: String
        var value: (ExperimentRow) -> Double?
        /// Whether the base model (0 edits) is a point of the curve.
        var fromBase: Bool
        var unitRange: Bool
    }

    var panels: [Panel] {
        var p: [Panel] = [
            Panel(title: "Efficacy (edits so far)", axis: "success rate", value: { $0.efficacySuccess }, fromBase: false, unitRange: true),
            Panel(title: "Paraphrase (edits so far)", axis: "success rate", value: { $0.paraphraseSuccess }, fromBase: false, unitRange: true),
            Panel(title: "Neighborhood (unedited subjects)", axis: "success rate", value: { $0.neighborhoodSuccess }, fromBase: false, unitRange: true),
            Panel(title: "Perplexity", axis: "perplexity", value: { $0.perplexity }, fromBase: true, unitRange: false),
        ]
        let taskFiles = rows.first?.tasks.map(\.file) ?? []
        for (i, f) in taskFiles.enumerated() {
            p.append(Panel(title: "Accuracy: " + (f as NSString).lastPathComponent, axis: "accuracy",
                           value: { i < $0.tasks.count ? $0.tasks[i].accuracy : nil }, fromBase: true, unitRange: true))
        }
        p.append(Panel(title: "κ of the edited matrix (largest)", axis: "κ", value: { $0.kappaMax }, fromBase: true, unitRange: false))
        return p.filter { panel in rows.contains { panel.value($0).map { $0.isFinite } ?? false } }
    }

    package func svg() -> String {
        let panels = self.panels
        let columns = min(3, max(1, panels.count))
        let pw = 340.0, ph = 240.0
        let left = 62.0, right = 16.0, top = 34.0, bottom = 44.0
        let legendHeight = 28.0
        let headerHeight = 34.0
        let rowsOfPanels = (panels.count + columns - 1) / columns
        let width = Double(columns) * pw
        let height = headerHeight + legendHeight + Double(rowsOfPanels) * ph + 8
        let maxEdits = Double(rows.map(\.edits).max() ?? 1)
        let xTicks = Array(Set(rows.map(\.edits))).sorted()
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="11">
            <title>\(Self.escape(title))</title>
            <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
            <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(Self.escape(title))</text>

            """
        // Legend.
        var lx = 16.0
        let ly = headerHeight + 12
        out += "<g class=\"legend\">\n"
        for (i, arm) in arms.enumerated() {
            let c = Self.colors[i % Self.colors.count]
            out += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly))\" stroke=\"\(c)\" stroke-width=\"2.5\"/>"
            out += "<circle cx=\"\(f(lx + 11))\" cy=\"\(f(ly))\" r=\"3\" fill=\"\(c)\"/>"
            out += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly + 4))\">\(Self.escape(arm))</text>\n"
            lx += 40 + Double(arm.count) * 7
        }
        out += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly))\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
        out += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly + 4))\">base model</text>\n</g>\n"

        for (pi, panel) in panels.enumerated() {
            let ox = Double(pi % columns) * pw, oy = headerHeight + legendHeight + Double(pi / columns) * ph
            let x0 = ox + left, x1 = ox + pw - right, y0 = oy + top, y1 = oy + ph - bottom
            // The y range: [0, 1] for rates; otherwise the data's, on a log scale when it spans more than 20×.
            let values = rows.compactMap { panel.value($0) }.filter { $0.isFinite }
            var lo = values.min() ?? 0, hi = values.max() ?? 1
            var logScale = false
            if panel.unitRange {
                lo = 0; hi = 1
            } else if lo > 0, hi / lo > 20 {
                logScale = true
                lo = pow(10, floor(log10(lo))); hi = pow(10, ceil(log10(hi)))
            } else {
                let (a, b) = Self.niceRange(lo, hi)
                lo = a; hi = b
            }
            func sx(_ e: Double) -> Double { x0 + (maxEdits > 0 ? e / maxEdits : 0) * (x1 - x0) }
            func sy(_ v: Double) -> Double {
                let t = logScale ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo)
                return y1 - max(0, min(1, t.isFinite ? t : 0)) * (y1 - y0)
            }
            out += "<g class=\"panel\">\n"
            out += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(oy + 20))\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"bold\">\(Self.escape(panel.title))</text>\n"
            out += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(y1 - y0))\" fill=\"none\" stroke=\"#999999\"/>\n"
            // Axes, ticks and grid.
            for t in xTicks {
                let x = sx(Double(t))
                out += "<line x1=\"\(f(x))\" y1=\"\(f(y1))\" x2=\"\(f(x))\" y2=\"\(f(y1 + 4))\" stroke=\"#333333\"/>"
                out += "<text x=\"\(f(x))\" y=\"\(f(y1 + 15))\" text-anchor=\"middle\">\(t)</text>\n"
            }
            let yTicks = logScale ? Self.logTicks(lo, hi) : Self.linearTicks(lo, hi)
            for v in yTicks {
                let y = sy(v)
                out += "<line x1=\"\(f(x0))\" y1=\"\(f(y))\" x2=\"\(f(x1))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>"
                out += "<line x1=\"\(f(x0 - 4))\" y1=\"\(f(y))\" x2=\"\(f(x0))\" y2=\"\(f(y))\" stroke=\"#333333\"/>"
                out += "<text x=\"\(f(x0 - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(v))</text>\n"
            }
            out += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(y1 + 32))\" text-anchor=\"middle\">number of edits</text>\n"
            let axisLabel = panel.axis + (logScale ? " (log scale)" : "")
            out += "<text x=\"\(f(ox + 14))\" y=\"\(f((y0 + y1) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(ox + 14)) \(f((y0 + y1) / 2)))\">\(Self.escape(axisLabel))</text>\n"
            // The base model's value as a dashed line.
            if panel.fromBase, let b = rows.first(where: { $0.arm == "base" }).flatMap(panel.value), b.isFinite {
                out += "<line x1=\"\(f(x0))\" y1=\"\(f(sy(b)))\" x2=\"\(f(x1))\" y2=\"\(f(sy(b)))\" stroke=\"#555555\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"/>\n"
            }
            for (i, arm) in arms.enumerated() {
                let c = Self.colors[i % Self.colors.count]
                var points: [(Double, Double)] = []
                if panel.fromBase, let b = rows.first(where: { $0.arm == "base" }).flatMap(panel.value), b.isFinite {
                    points.append((0, b))
                }
                for r in rows where r.arm == arm {
                    if let v = panel.value(r), v.isFinite, !logScale || v > 0 { points.append((Double(r.edits), v)) }
                }
                guard !points.isEmpty else { continue }
                let list = points.map { "\(f(sx($0.0))),\(f(sy($0.1)))" }.joined(separator: " ")
                out += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\"><title>\(Self.escape(arm))</title></polyline>\n"
                for p in points { out += "<circle cx=\"\(f(sx(p.0)))\" cy=\"\(f(sy(p.1)))\" r=\"2.5\" fill=\"\(c)\"/>" }
                out += "\n"
            }
            out += "</g>\n"
        }
        out += "</svg>\n"
        return out
    }

    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func niceStep(_ span: Double) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / 5
        let p = pow(10, floor(log10(raw)))
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where raw <= m * p { return m * p }
        return 10 * p
    }

    static func niceRange(_ lo: Double, _ hi: Double) -> (Double, Double) {
        if lo == hi { return (lo - (lo == 0 ? 1 : abs(lo) * 0.1), hi + (hi == 0 ? 1 : abs(hi) * 0.1)) }
        let step = niceStep(hi - lo)
        return (floor(lo / step) * step, ceil(hi / step) * step)
    }

    static func linearTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let step = niceStep(hi - lo)
        var out: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 { out.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return out
    }

    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        var out: [Double] = []
        var e = log10(lo).rounded()
        while e <= log10(hi).rounded() { out.append(pow(10, e)); e += 1 }
        return out
    }

    static func tickLabel(_ v: Double) -> String {
        if v != 0, abs(v) >= 1e5 || abs(v) < 1e-3 {
            // 1e5, 1e-4: mantissa and exponent without padding.
            let e = Int(floor(log10(abs(v))))
            let m = v / pow(10, Double(e))
            return (abs(m - m.rounded()) < 1e-9 ? "\(Int(m.rounded()))" : String(format: "%.1f", m)) + "e\(e)"
        }
        if v == v.rounded() { return String(format: "%.0f", v) }
        var s = String(format: "%.3f", v)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
