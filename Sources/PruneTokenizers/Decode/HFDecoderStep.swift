/// A Hugging Face decoder (`decoders.*`), as a `decode_chain` over token strings.
indirect enum HFDecoderStep: Sendable {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    case replace(String, with: String)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case sequence([HFDecoderStep])

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens {
                if let b = ByteLevelAlphabet.bytes(ofPiece: t) { bytes += b } else { bytes += Array(t.utf8) }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let rep, let scheme):
            return tokens.enumerated().map { i, t in
                var s = String.UnicodeScalarView()
                for c in t.unicodeScalars {
                    if c == rep {
                        if i == 0 && scheme != .never { continue }
                        s.append(" ")
                    } else {
                        s.append(c)
                    }
                }
                return String(s)
            }
        case .replace(let pattern, let content):
            // On bytes: String matching is by Character under canonical equivalence ("▁" followed
            // by a combining mark is one Character, so it would not be replaced).
            let p = Array(pattern.utf8), c = Array(content.utf8)
            guard !p.isEmpty else { return tokens }
            return tokens.map { Self.replacing(Array($0.utf8), p, with: c) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    out += Array(repeating: "\u{FFFD}", count: pending.count)
                }
                pending.removeAll()
            }
            for t in tokens {
                let u = Array(t.utf8)
                if u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E, let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                    pending.append(b)
                } else {
                    flush()
                    out.append(t)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { t in
                let chars = Array(t.unicodeScalars)
                var startCut = 0
                for i in 0..<Swift.min(start, chars.count) {
                    if chars[i] == content { startCut = i + 1 } else { break }
                }
                var stopCut = chars.count
                if stop > 0 {
                    for i in 0..<Swift.min(stop, chars.count) {
                        let index = chars.count - i - 1
                        if chars[index] == content { stopCut = index } else { break }
                    }
                }
                guard startCut < stopCut else { return "" }
                var v = String.UnicodeScalarView()
                v.append(contentsOf: chars[startCut..<stopCut])
                return String(v)
            }
        case .sequence(let steps):
            var t = tokens
            for s in steps { t = s.decodeChain(t) }
            return t
        }
    }

    private static func replacing(_ t: [UInt8], _ p: [UInt8], with c: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(t.count)
        var i = 0
        while i < t.count {
            if i + p.count <= t.count, t[i] == p[0], t[i..<(i + p.count)].elementsEqual(p) {
                out += c
                i += p.count
            } else {
                out.append(t[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
