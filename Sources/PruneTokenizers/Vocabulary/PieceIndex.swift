/// Piece text → token id, keyed on the piece's UTF-8 bytes. Swift `String` equality (and so
/// `[String: …]`, `Set<String>`, `hasPrefix`) is canonical equivalence: "ί" U+03AF equals
/// "ί" U+1F77 and "é" U+00E9 equals "e\u{301}", yet vocabularies hold both as distinct tokens.
struct PieceIndex: Sendable {
    private var ids: [[UInt8]: Int32] = [:]

    init(minimumCapacity: Int = 0) { ids.reserveCapacity(minimumCapacity) }

    var count: Int { ids.count }

    subscript(_ piece: String) -> Int32? {
        get { ids[Array(piece.utf8)] }
        set { ids[Array(piece.utf8)] = newValue }
    }

    subscript(bytes bytes: [UInt8]) -> Int32? {
        get { ids[bytes] }
        set { ids[bytes] = newValue }
    }
}
