/// A pattern of a `Split` pre-tokenizer step: finds its matches in a piece of text, leftmost
/// first, as a regex engine's find-all does (ascending, non-overlapping scalar-index ranges).
protocol TextSplitter: Sendable {
    func matches(in text: ScalarText) -> [Range<Int>]
}
