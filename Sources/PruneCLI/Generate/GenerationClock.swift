import Foundation

/// What `prune-generate --timings` reports, from a monotonic clock: the load, each prompt's pass up
/// to its first new token, and the generation steps after it (one token each).
struct GenerationClock {
    private(set) var loadSeconds = 0.0
    private(set) var promptTokens = 0
    private(set) var promptSeconds = 0.0
    private(set) var steps = 0
    private(set) var stepSeconds = 0.0
    private var last: UInt64
    private var sawStep = false

    /// Starts at the beginning of the load.
    init() { last = DispatchTime.now().uptimeNanoseconds }

    private mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }

    /// The model and tokenizer are loaded (and the prompts tokenized).
    mutating func loaded() { loadSeconds = lap() }

    /// A prompt of `tokens` tokens starts.
    mutating func promptStarts(tokens: Int) {
        _ = lap()
        promptTokens += tokens
        sawStep = false
    }

    /// A new token was made: the first ends the prompt's pass, each later one a generation step.
    mutating func step() {
        let t = lap()
        if sawStep {
            steps += 1
            stepSeconds += t
        } else {
            promptSeconds += t
            sawStep = true
        }
    }

    /// The prompt is done (with no new token, its whole time is the prompt's pass).
    mutating func promptEnds() {
        if !sawStep { promptSeconds += lap() }
    }

    /// One line for standard error.
    var line: String {
        func rate(_ n: Int, _ s: Double) -> String { s > 0 ? String(format: "%.1f tokens/s", Double(n) / s) : "—" }
        var text = String(format: "load %.2f s; prompts: %d tokens in %.3f s (%@)", loadSeconds, promptTokens, promptSeconds,
                          rate(promptTokens, promptSeconds) as NSString)
        if steps > 0 {
            text += String(format: "; generation: %d tokens in %.3f s (%.4f s/token, %@)", steps, stepSeconds,
                           stepSeconds / Double(steps), rate(steps, stepSeconds) as NSString)
        } else {
            text += "; generation: no token after the first"
        }
        return text
    }
}
