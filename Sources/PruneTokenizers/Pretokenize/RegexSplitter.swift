import Foundation

/// An arbitrary pattern from a tokenizer file, run by ICU (NSRegularExpression), after rewriting
/// the class escapes whose meaning differs from Oniguruma's (the engine of Hugging Face
/// `tokenizers`): ICU's `\s` leaves out U+000B and U+0085, its `\w` differs on numbers and joiners.
struct RegexSplitter: TextSplitter, @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe for matching.
    let regex: NSRegularExpression
    let pattern: String

    init(pattern: String) throws {
        self.pattern = pattern
        regex = try NSRegularExpression(pattern: Self.icuPattern(pattern), options: [])
    }

    /// The pattern with Oniguruma's class escapes spelled out for ICU: `\s`/`\S` are White_Space;
    /// `\w` outside a bracket class is Letter|Mark|Number|Connector_Punctuation (ICU's leaves out
    /// No/Nl and adds ZWJ/ZWNJ), inside one Alphabetic|Mark|Decimal_Number|Connector_Punctuation.
    static func icuPattern(_ p: String) -> String {
        var out = ""
        var depth = 0
        var it = Array(p).makeIterator()
        while let ch = it.next() {
            switch ch {
            case "\\":
                guard let next = it.next() else { out.append(ch); break }
                switch next {
                case "s": out += "\\p{White_Space}"
                case "S": out += "\\P{White_Space}"
                case "w": out += depth > 0 ? "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}" : "[\\p{L}\\p{M}\\p{N}\\p{Pc}]"
                case "W" where depth == 0: out += "[^\\p{L}\\p{M}\\p{N}\\p{Pc}]"
                default: out.append(ch); out.append(next)
                }
            case "[":
                depth += 1
                out.append(ch)
            case "]":
                if depth > 0 { depth -= 1 }
                out.append(ch)
            default:
                out.append(ch)
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
