/// Bits written most significant first into 64-bit words.
struct BitWriter {
    private(set) var words: [UInt64] = []
    private var current: UInt64 = 0
    private var used = 0
    private(set) var bitCount = 0

    /// Writes the low `n` bits of `value` (n ≤ 64), most significant first.
    @inline(__always)
    mutating func write(_ value: UInt64, bits n: Int) {
        // n = 0 writes nothing without a branch: v is 0 and `used` does not move.
        let v = n == 64 ? value : value & ((1 << UInt64(n)) &- 1)
        bitCount &+= n
        let free = 64 - used
        if n < free {
            current |= v << UInt64(free - n)
            used &+= n
        } else {
            spill(v, bits: n, free: free)
        }
    }

    /// The word fills: the rest of `v` starts the next one (kept out of line so `write` inlines).
    @inline(never)
    private mutating func spill(_ v: UInt64, bits n: Int, free: Int) {
        let rest = n - free
        current |= rest == 0 ? v : v >> UInt64(rest)
        words.append(current)
        current = rest == 0 ? 0 : v << UInt64(64 - rest)
        used = rest
    }

    /// A value in 0..<count (count ≥ 1) in truncated binary: with k = ⌊log₂ count⌋ and
    /// u = 2^(k+1) − count, values below u take k bits, the others k + 1 bits (value + u). A count
    /// of 1 writes no bits.
    @inline(__always)
    mutating func writeTruncated(_ value: UInt64, count: UInt64) {
        let k = 63 - count.leadingZeroBitCount
        let u = (k + 1 == 64 ? 0 : UInt64(1) << UInt64(k + 1)) &- count
        if value < u { write(value, bits: k) } else { write(value &+ u, bits: k + 1) }
    }

    /// Appends every bit of another writer.
    mutating func append(_ other: BitWriter) {
        for w in other.words { write(w, bits: 64) }
        if other.used > 0 { write(other.current >> UInt64(64 - other.used), bits: other.used) }
    }

    /// The bits as bytes, the last byte zero-padded.
    func finish() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bitCount + 7) / 8)
        for w in words { for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> UInt64(56 - 8 * b))) } }
        let tail = (used + 7) / 8
        for b in 0..<tail { out.append(UInt8(truncatingIfNeeded: current >> UInt64(56 - 8 * b))) }
        return out
    }
}
