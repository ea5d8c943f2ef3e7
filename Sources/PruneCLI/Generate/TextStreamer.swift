import PruneTokenizers

/// The text a continuation adds to its prompt, token by token, for output that streams.
///
/// The continuation's text is the decoding of prompt + generated ids (special tokens skipped) minus
/// the decoding of the prompt, so that tokenizers which drop or merge spaces at the start of a text
/// (SentencePiece) print what the whole sequence reads. Text that ends in an incomplete UTF-8
/// sequence (a byte token waiting for the rest of its character) is held back until it completes.
/// Stop tokens are not printed.
struct TextStreamer {
    let tokenizer: Tokenizer
    let prompt: [Int32]
    let stopTokens: Set<Int32>
    private let promptScalars: [Unicode.Scalar]
    private var generated: [Int32] = []
    private var printed: [Unicode.Scalar] = []

    init(tokenizer: Tokenizer, prompt: [Int32], stopTokens: Set<Int32>) {
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.stopTokens = stopTokens
        promptScalars = Array(tokenizer.decode(prompt, skipSpecialTokens: true).unicodeScalars)
    }

    /// The new text after `id` was generated ("" while it is incomplete, and for stop tokens).
    mutating func append(_ id: Int32) -> String {
        guard !stopTokens.contains(id) else { return "" }
        generated.append(id)
        return emit(final: false)
    }

    /// Whatever is still held back.
    mutating func finish() -> String { emit(final: true) }

    private mutating func emit(final: Bool) -> String {
        let continuation = self.continuation()
        if !final, continuation.last == "\u{FFFD}" { return "" }
        guard continuation.count >= printed.count, Array(continuation[..<printed.count]) == printed else {
            return ""  // the decoding of what was printed changed: nothing can be taken back
        }
        let new = continuation[printed.count...]
        printed = continuation
        var s = ""
        s.unicodeScalars.append(contentsOf: new)
        return s
    }

    private func continuation() -> [Unicode.Scalar] {
        let whole = Array(tokenizer.decode(prompt + generated, skipSpecialTokens: true).unicodeScalars)
        if whole.count >= promptScalars.count, Array(whole[..<promptScalars.count]) == promptScalars {
            return Array(whole[promptScalars.count...])
        }
        return Array(tokenizer.decode(generated, skipSpecialTokens: true).unicodeScalars)
    }
}
