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
            guard !pattern.isEmpty else { return tokens }
            return tokens.map { $0.replacingOccurrences(of: pattern, with: content) }
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
                if u.count == 6, t.hasPrefix("<0x"), t.hasSuffix(">"), let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
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
}
