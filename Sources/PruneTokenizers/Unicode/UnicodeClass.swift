/// The character classes the pre-tokenizer patterns test, for one Unicode scalar: its general
/// category group (`\p{L}`, `\p{N}`, `\p{P}`, `\p{S}`, `\p{M}`, `\p{Z}`, `\p{C}`) and White_Space
/// (`\s` in Oniguruma, Rust and llama.cpp).
struct UnicodeClass: OptionSet, Sendable, Hashable {
    let rawValue: UInt16

    static let letter = UnicodeClass(rawValue: 1 << 0)
    static let number = UnicodeClass(rawValue: 1 << 1)
    static let punctuation = UnicodeClass(rawValue: 1 << 2)
    static let symbol = UnicodeClass(rawValue: 1 << 3)
    static let mark = UnicodeClass(rawValue: 1 << 4)
    static let separator = UnicodeClass(rawValue: 1 << 5)
    static let other = UnicodeClass(rawValue: 1 << 6)
    static let whitespace = UnicodeClass(rawValue: 1 << 7)
    /// Decimal digit (`\d`, Nd).
    static let decimalDigit = UnicodeClass(rawValue: 1 << 8)
    /// Rust's `char::is_alphanumeric` (Alphabetic or N): the word test of added tokens' `single_word`.
    static let alphanumeric = UnicodeClass(rawValue: 1 << 9)
    /// Lowercase / uppercase letter (Ll / Lu).
    static let lowercase = UnicodeClass(rawValue: 1 << 10)
    static let uppercase = UnicodeClass(rawValue: 1 << 11)

    /// Neither whitespace, letter nor number: `[^\s\p{L}\p{N}]`.
    var isOtherThanSpaceLetterNumber: Bool { isDisjoint(with: [.whitespace, .letter, .number]) }
}
