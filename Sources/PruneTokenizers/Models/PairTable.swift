/// An immutable open-addressing hash map from `UInt64` to `UInt64` with a multiplicative hash:
/// the merge / pair tables of the BPE models, looked up several times per symbol (much cheaper
/// than a seeded SipHash `Dictionary`).
struct PairTable: Sendable {
    private let keys: [UInt64]
    private let values: [UInt64]
    private let shift: UInt64
    private let mask: Int
    static let empty = UInt64.max

    init(_ entries: [UInt64: UInt64]) {
        self.init(entries.map { ($0.key, $0.value) })
    }

    /// Entries in order; a repeated key keeps its last value.
    init(_ entries: [(UInt64, UInt64)]) {
        var capacity = 16
        while capacity < entries.count * 2 + 1 { capacity <<= 1 }
        var k = [UInt64](repeating: Self.empty, count: capacity)
        var v = [UInt64](repeating: 0, count: capacity)
        let bits = UInt64(capacity.trailingZeroBitCount)
        let shift = 64 - bits
        let mask = capacity - 1
        for (key, value) in entries where key != Self.empty {
            var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while k[i] != Self.empty && k[i] != key { i = (i + 1) & mask }
            k[i] = key
            v[i] = value
        }
        keys = k
        values = v
        self.shift = shift
        self.mask = mask
    }

    var count: Int { keys.reduce(0) { $0 + ($1 == Self.empty ? 0 : 1) } }

    @inline(__always)
    subscript(key: UInt64) -> UInt64? {
        if key == Self.empty { return nil }
        return keys.withUnsafeBufferPointer { k in
            var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let x = k[i]
                if x == key { return values[i] }
                if x == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}
