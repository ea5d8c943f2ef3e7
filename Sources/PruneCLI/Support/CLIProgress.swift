import Foundation
import PruneKit
import PruneFacts

/// Progress of an apply, replay or revert on standard error, one self-overwriting line, only when
/// standard error is a terminal (and not `quiet`); `finish()` clears it before the summary line.
/// A fact edit's optimisation shows its steps on that line (`factStep`).
public final class CLIProgress: @unchecked Sendable {
    let tool: String
    let enabled: Bool
    private var shown = false
    private let lock = NSLock()
    private var factStart: Date?

    init(tool: String, quiet: Bool = false) {
        self.tool = tool
        enabled = !quiet && CLIOutput.isTerminal(2)
    }

    /// The line for one optimisation step, `seconds` after the first: the time left assumes every
    /// request takes as long as those so far and runs all its steps (early stops make it shorter).
    static func factLine(tool: String, _ s: FactEngine.FactStep, seconds: Double) -> String {
        let done = (Double(s.request - 1) + Double(s.step) / Double(max(1, s.steps))) / Double(max(1, s.requests))
        let left = done > 0 ? seconds * (1 - done) / done : 0
        return "\(tool): \(s.method) request \(s.request)/\(s.requests), layer \(s.layer), step \(s.step)/\(s.steps), "
            + String(format: "loss %.4g, ETA ", s.loss) + duration(left)
    }

    /// The callback for the fact engine's optimisation steps (nil off a terminal or when quiet).
    var factStep: (@Sendable (FactEngine.FactStep) -> Void)? {
        guard enabled else { return nil }
        return { [self] s in
            lock.lock()
            defer { lock.unlock() }
            let start = factStart ?? Date()
            factStart = start
            show(Self.factLine(tool: tool, s, seconds: Date().timeIntervalSince(start)))
        }
    }

    /// The callback to hand to the operation (nil off a terminal).
    var report: ((ApplyProgress) -> Void)? {
        guard enabled else { return nil }
        return { [self] p in
            show("\(tool): tensor \(p.tensorsDone)/\(p.tensorsTotal) (\(p.edits) edits), \(p.bytesDone >> 20)/\(p.bytesTotal >> 20) MiB, \(p.tensor)")
        }
    }

    /// Replaces the line with `text`.
    func show(_ text: String) {
        shown = true
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    /// Clears the line (once).
    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        shown = false
    }
}

/// Progress of `prune-stats compute` on standard error: documents, tokens, tokens/s and the time
/// left, on one self-overwriting line, only when standard error is a terminal and not `quiet`.
public final class StatsProgress: @unchecked Sendable {
    /// The terminal line (and whether one is shown).
    let terminal: CLIProgress
    private let start = Date()

    init(tool: String, quiet: Bool) {
        terminal = CLIProgress(tool: tool, quiet: quiet)
    }

    /// The line for a state, `seconds` after the start (the rate counts this run's tokens only).
    static func line(tool: String, _ p: StatisticsComputer.Progress, seconds: Double) -> String {
        let rate = Double(p.tokensThisRun) / max(seconds, 1e-3)
        let left = rate > 0 ? Double(p.tokensTotal - p.tokens) / rate : 0
        return "\(tool): \(p.documents)/\(p.documentsTotal) documents, \(p.tokens)/\(p.tokensTotal) tokens, "
            + String(format: "%.0f tokens/s, ETA ", rate) + CLIProgress.duration(left)
    }

    /// The callback to hand to the computation (nil when nothing is shown).
    var report: ((StatisticsComputer.Progress) -> Void)? {
        guard terminal.enabled else { return nil }
        return { [self] p in terminal.show(Self.line(tool: terminal.tool, p, seconds: Date().timeIntervalSince(start))) }
    }

    func finish() { terminal.finish() }
}

extension CLIProgress {
    /// A duration as `1h02m`, `3m05s` or `12s`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
