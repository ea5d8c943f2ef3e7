/// Reads what `BitWriter` wrote, between two bit positions of a byte buffer.
struct BitReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    /// `n` bits (n ≤ 64) as an integer, or nil past the end.
    @inline(__always)
    mutating func read(bits n: Int) -> UInt64? {
        guard n >= 0, position + n <= end else { return nil }
        var v: UInt64 = 0
        var left = n
        while left > 0 {
            let byte = bytes[position >> 3]
            let offset = position & 7
            let take = min(8 - offset, left)
            let chunk = (UInt64(byte) >> UInt64(8 - offset - take)) & ((1 << UInt64(take)) - 1)
            v = (v << UInt64(take)) | chunk
            position += take
            left -= take
        }
        return v
    }

    @inline(__always)
    mutating func readTruncated(count: UInt64) -> UInt64? {
        let k = 63 - count.leadingZeroBitCount
        let u = (k + 1 == 64 ? 0 : UInt64(1) << UInt64(k + 1)) &- count
        guard let v = read(bits: k) else { return nil }
        if v < u { return v }
        guard let b = read(bits: 1) else { return nil }
        let w = (v << 1) | b
        return w &- u < count ? w &- u : nil
    }
}
