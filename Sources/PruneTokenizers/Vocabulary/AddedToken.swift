/// A token matched in the raw text before the model runs (Hugging Face `added_tokens`, or the
/// control / user-defined / unknown tokens of a SentencePiece or GGUF vocabulary).
struct AddedToken: Sendable {
    var id: Int32
    var content: [UInt8]
    var special: Bool
    /// Also swallow the whitespace on the left / right of a match.
    var lstrip = false
    var rstrip = false
    /// Match only where no word character touches the match.
    var singleWord = false
    /// Matched in the normalized text (after the normalizer) rather than the raw text.
    var normalized = false
}
