import Foundation

/// An arbitrary pattern from a tokenizer file, run by ICU (NSRegularExpression). Oniguruma (the
/// engine of Hugging Face `tokenizers`) reads `\s` as White_Space while ICU's `\s` leaves out
/// U+000B and U+0085, so `\s`/`\S` are rewritten to `\p{White_Space}`/`\P{White_Space}` first.
struct RegexSplitter: TextSplitter, @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe for matching.
    let regex: NSRegularExpression
    let pattern: String

    init(pattern: String) throws {
        self.pattern = pattern
        regex = try NSRegularExpression(pattern: Self.icuPattern(pattern), options: [])
    }

    /// The pattern with Oniguruma's `\s` / `\S` meaning spelled out for ICU.
    static func icuPattern(_ p: String) -> String {
        var out = ""
        var it = p.makeIterator()
        while let ch = it.next() {
            guard ch == "\\" else { out.append(ch); continue }
            guard let next = it.next() else { out.append(ch); break }
            switch next {
            case "s": out += "\\p{White_Space}"
            case "S": out += "\\P{White_Space}"
            default: out.append(ch); out.append(next)
            }
        }
        return out
    }

    func matches(in text: ScalarText) -> [Range<Int>] {
        // Build the UTF-16 string and the UTF-16 → scalar index map.
        var units: [UInt16] = []
        units.reserveCapacity(text.count)
        var scalarAt: [Int] = []
        scalarAt.reserveCapacity(text.count + 1)
        for (k, v) in text.scalars.enumerated() {
            if v >= 0x10000 {
                let w = v - 0x10000
                units.append(UInt16(0xD800 + (w >> 10))); units.append(UInt16(0xDC00 + (w & 0x3FF)))
                scalarAt.append(k); scalarAt.append(k)
            } else {
                units.append(UInt16(v))
                scalarAt.append(k)
            }
        }
        scalarAt.append(text.count)
        let s = String(utf16CodeUnits: units, count: units.count)
        var out: [Range<Int>] = []
        regex.enumerateMatches(in: s, options: [], range: NSRange(location: 0, length: units.count)) { m, _, _ in
            guard let r = m?.range, r.location != NSNotFound else { return }
            out.append(scalarAt[r.location]..<scalarAt[r.location + r.length])
        }
        return out
    }
}
