/// Classes of every scalar: a table for the Basic Multilingual Plane built once from the standard
/// library's Unicode data, and a direct computation above it.
enum UnicodeClassTable {
    /// Classes of U+0000…U+FFFF (surrogates get `.other`).
    static let bmp: [UnicodeClass] = {
        var table = [UnicodeClass](repeating: .other, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { table[v] = compute(s) }
        }
        return table
    }()

    /// Classes of U+0000…U+007F (a small table the hot loops index directly).
    static let ascii: [UnicodeClass] = Array(bmp[0..<128])

    @inline(__always)
    static func classes(_ v: UInt32) -> UnicodeClass {
        if v < 0x10000 { return bmp[Int(v)] }
        guard let s = Unicode.Scalar(v) else { return .other }
        return compute(s)
    }

    static func compute(_ s: Unicode.Scalar) -> UnicodeClass {
        let p = s.properties
        var c: UnicodeClass
        switch p.generalCategory {
        case .uppercaseLetter: c = [.letter, .uppercase]
        case .lowercaseLetter: c = [.letter, .lowercase]
        case .titlecaseLetter, .modifierLetter, .otherLetter: c = .letter
        case .decimalNumber: c = [.number, .decimalDigit]
        case .letterNumber, .otherNumber: c = .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: c = .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: c = .symbol
        case .nonspacingMark, .spacingMark, .enclosingMark: c = .mark
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: c = .separator
        default: c = .other
        }
        if p.isWhitespace { c.insert(.whitespace) }
        if p.isAlphabetic || c.contains(.number) { c.insert(.alphanumeric) }
        return c
    }
}
