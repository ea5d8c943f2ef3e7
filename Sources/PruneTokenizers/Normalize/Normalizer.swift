import Foundation

/// A Hugging Face normalizer, applied to each text fragment before pre-tokenization.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd, lowercase
    /// `Prepend`: the string in front of a non-empty fragment.
    case prepend([UInt8])
    /// `Replace` of a literal string.
    case replace([UInt8], with: [UInt8])
    /// `Replace` of a regex (ICU).
    case replaceRegex(RegexSplitter, with: String)
    /// `Strip`: whitespace at the left and/or right end.
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    func apply(_ b: [UInt8]) -> [UInt8] {
        switch self {
        case .nfc, .nfd, .nfkc, .nfkd:
            if b.allSatisfy({ $0 < 0x80 }) { return b }
            let s = String(decoding: b, as: UTF8.self)
            let r: String
            switch self {
            case .nfc: r = s.precomposedStringWithCanonicalMapping
            case .nfd: r = s.decomposedStringWithCanonicalMapping
            case .nfkc: r = s.precomposedStringWithCompatibilityMapping
            default: r = s.decomposedStringWithCompatibilityMapping
            }
            return Array(r.utf8)
        case .lowercase:
            return Array(String(decoding: b, as: UTF8.self).lowercased().utf8)
        case .prepend(let p):
            return b.isEmpty ? b : p + b
        case .replace(let pattern, let content):
            guard !pattern.isEmpty, b.count >= pattern.count else { return b }
            var out: [UInt8] = []
            out.reserveCapacity(b.count)
            var i = 0
            while i < b.count {
                if b[i] == pattern[0] && i + pattern.count <= b.count && b[i..<(i + pattern.count)].elementsEqual(pattern) {
                    out += content
                    i += pattern.count
                } else {
                    out.append(b[i])
                    i += 1
                }
            }
            return out
        case .replaceRegex(let re, let content):
            let s = String(decoding: b, as: UTF8.self)
            let r = re.regex.stringByReplacingMatches(in: s, options: [], range: NSRange(s.startIndex..., in: s),
                                                      withTemplate: NSRegularExpression.escapedTemplate(for: content))
            return Array(r.utf8)
        case .strip(let left, let right):
            var s = String(decoding: b, as: UTF8.self).unicodeScalars[...]
            if left { while let f = s.first, f.properties.isWhitespace { s = s.dropFirst() } }
            if right { while let l = s.last, l.properties.isWhitespace { s = s.dropLast() } }
            return Array(String(String.UnicodeScalarView(s)).utf8)
        case .sequence(let list):
            var x = b
            for n in list { x = n.apply(x) }
            return x
        }
    }
}
