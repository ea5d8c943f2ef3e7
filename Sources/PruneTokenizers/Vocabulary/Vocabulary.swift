/// Every token: its piece (the raw vocabulary string), its kind, and whether it is special
/// (dropped by `decode(skipSpecialTokens:)`).
struct Vocabulary: Sendable {
    let pieces: [String]
    let kinds: [TokenKind]
    let special: [Bool]
    let idOfPiece: [String: Int32]

    init(pieces: [String], kinds: [TokenKind], special: [Bool]) {
        self.pieces = pieces
        self.kinds = kinds
        self.special = special
        var d: [String: Int32] = [:]
        d.reserveCapacity(pieces.count)
        for (i, p) in pieces.enumerated() where d[p] == nil { d[p] = Int32(i) }
        idOfPiece = d
    }

    var count: Int { pieces.count }

    func isSpecial(_ id: Int32) -> Bool { id >= 0 && Int(id) < special.count && special[Int(id)] }
}
