/// Piece text → token id, keyed on the piece's UTF-8 bytes. Swift `String` equality (and so
/// `[String: …]`, `Set<String>`, `hasPrefix`) is canonical equivalence: "ί" U+03AF equals
/// "ί" U+1F77 and "é" U+00E9 equals "e\u{301}", yet vocabularies hold both as distinct tokens.
/// A `ByteStringTable` underneath: no array per lookup or insert (262k-piece vocabularies).
struct PieceIndex: Sendable {
    private var table: ByteStringTable

    init(minimumCapacity: Int = 0) { table = ByteStringTable(minimumCapacity: minimumCapacity) }

    var count: Int { table.count }

    /// The id of `piece`; setting one replaces an existing id (a piece cannot be removed).
    subscript(_ piece: String) -> Int32? {
        get { Self.withBytes(piece) { table.value($0, 0..<$0.count) } }
        set {
            guard let v = newValue else { preconditionFailure("PieceIndex: pieces cannot be removed") }
            Self.withBytes(piece) { table.insert($0, v, replacing: true) }
        }
    }

    subscript(bytes bytes: [UInt8]) -> Int32? {
        table.value(bytes)
    }

    /// The piece's UTF-8 bytes, without a copy where the string is native.
    private static func withBytes<R>(_ piece: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var s = piece
        return s.withUTF8(body)
    }
}
