/// GPT-2's byte-to-character table (`bytes_to_unicode`): printable Latin-1 bytes stand for
/// themselves, the other 68 bytes for U+0100, U+0101, … in byte order.
enum ByteLevelAlphabet {
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = 256 + n
                n += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, nil for characters outside the alphabet.
    static func byte(of v: UInt32) -> UInt8? {
        if v < 0x100 {
            let b = Int(v)
            return scalarOfByte[b] == v ? UInt8(b) : nil
        }
        return reverse[v]
    }

    private static let reverse: [UInt32: UInt8] = {
        var r: [UInt32: UInt8] = [:]
        for b in 0..<256 where scalarOfByte[b] >= 0x100 { r[scalarOfByte[b]] = UInt8(b) }
        return r
    }()

    /// The raw bytes a byte-level piece stands for; nil when a character is outside the alphabet.
    static func bytes(ofPiece piece: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(piece.unicodeScalars.count)
        for s in piece.unicodeScalars {
            guard let b = byte(of: s.value) else { return nil }
            out.append(b)
        }
        return out
    }

    /// The UTF-8 of the characters that stand for `bytes`.
    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes { UTF8Scalar.append(scalarOfByte[Int(b)], to: &out) }
        return out
    }
}
