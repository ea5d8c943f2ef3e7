/// A part of a text after the added / special tokens are found: a byte range of plain text, or a token.
enum TextSegment: Sendable, Equatable {
    case text(Range<Int>)
    case token(Int32)
}
