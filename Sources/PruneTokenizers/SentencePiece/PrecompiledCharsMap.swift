/// SentencePiece's precompiled normalization rules (`normalizer_spec.precompiled_charsmap`): a
/// little-endian uint32 trie size, a darts-clone double array of that many bytes, then the
/// NUL-terminated replacement strings the trie's values point into.
struct PrecompiledCharsMap: Sendable {
    private let units: [UInt32]
    private let strings: [UInt8]

    /// Nil when the blob is malformed; `problem` says why.
    init?(_ blob: [UInt8], problem: inout String) {
        guard blob.count > 4 else { problem = "precompiled_charsmap is \(blob.count) bytes, too short"; return nil }
        let size = Int(UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24)
        guard size < blob.count - 4 + 1, size % 4 == 0, size >= 4 else {
            problem = "precompiled_charsmap trie size \(size) does not fit its \(blob.count) bytes"
            return nil
        }
        var u = [UInt32](repeating: 0, count: size / 4)
        for k in 0..<u.count {
            let o = 4 + 4 * k
            u[k] = UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16 | UInt32(blob[o + 3]) << 24
        }
        units = u
        strings = Array(blob[(4 + size)...])
    }

    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> UInt32 { u & ((1 << 31) - 1) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & ((1 << 31) | 0xFF) }
    @inline(__always) private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    /// The longest rule that matches a prefix of `bytes[from..<end]`: its length and replacement
    /// (darts-clone `commonPrefixSearch`, the longest result, as `Normalizer::NormalizePrefix`).
    func longestRule(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        guard !units.isEmpty else { return nil }
        var pos = Self.offset(units[0])
        var best: (Int, UInt32)? = nil
        var i = from
        while i < end {
            let c = bytes[i]
            pos ^= Int(c)
            guard pos < units.count else { break }
            let unit = units[pos]
            if Self.label(unit) != UInt32(c) { break }
            pos ^= Self.offset(unit)
            guard pos < units.count else { break }
            i += 1
            if Self.hasLeaf(unit) { best = (i - from, Self.value(units[pos])) }
        }
        guard let (length, v) = best, Int(v) < strings.count else { return nil }
        var e = Int(v)
        while e < strings.count && strings[e] != 0 { e += 1 }
        return (length, strings[Int(v)..<e])
    }
}
