/// Split patterns of the well-known model families, recognised by their exact text and run by
/// hand-coded splitters; any other pattern runs in ICU.
enum KnownPatterns {
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    /// llama.cpp's spelling (without the final `|\s+`, equivalent when gaps are kept as pieces).
    static let gpt2LlamaCpp = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let llama3LlamaCpp = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2LlamaCpp = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let punctuationRun = #"[\p{P}\$\+<=>\^~\|]+"#
    static let punctuationRunFalcon = #"[\p{P}\$\+<=>\^~\|`]+"#

    /// The hand-coded splitter of `pattern`, nil for a pattern without one.
    static func splitter(for pattern: String) -> (any TextSplitter)? {
        switch pattern {
        case gpt2, gpt2LlamaCpp: return GPT2Splitter()
        case llama3, llama3LlamaCpp: return Llama3Splitter(maxDigits: 3)
        case qwen2, qwen2LlamaCpp: return Llama3Splitter(maxDigits: 1)
        case #"\p{N}"#: return ClassRunSplitter(test: .number, maxRun: 1)
        case #"\p{N}+"#: return ClassRunSplitter(test: .number, maxRun: nil)
        case #"\p{N}{1,3}"#: return ClassRunSplitter(test: .number, maxRun: 3)
        case "[0-9][0-9][0-9]": return ClassRunSplitter(test: .asciiDigit, maxRun: 3, exactRun: true)
        case punctuationRun: return ClassRunSplitter(test: .punctuationOr([0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C]), maxRun: nil)
        case punctuationRunFalcon: return ClassRunSplitter(test: .punctuationOr([0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C, 0x60]), maxRun: nil)
        default: return nil
        }
    }
}
