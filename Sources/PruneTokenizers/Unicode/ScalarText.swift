/// A piece of UTF-8 text decoded into scalars, with each scalar's classes and byte offset: what the
/// pre-tokenizer splitters read. Matches are scalar-index ranges; `byteOffset` maps them back.
struct ScalarText {
    var scalars: [UInt32]
    var classes: [UnicodeClass]
    /// Byte offset (from the start of the decoded slice) of scalar i; `count + 1` entries.
    var offsets: [Int]

    var count: Int { scalars.count }

    /// Decodes `bytes[range]`, which must be valid UTF-8 (it comes from a Swift string or from our
    /// own transforms); a malformed byte becomes U+FFFD of length 1.
    init(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        scalars = []
        classes = []
        offsets = []
        let n = range.count
        scalars.reserveCapacity(n)
        classes.reserveCapacity(n)
        offsets.reserveCapacity(n + 1)
        var i = range.lowerBound
        let end = range.upperBound
        let base = range.lowerBound
        while i < end {
            let (v, len) = UTF8Scalar.decode(bytes, at: i, end: end)
            scalars.append(v)
            classes.append(v < 0x80 ? UnicodeClassTable.ascii[Int(v)] : UnicodeClassTable.classes(v))
            offsets.append(i - base)
            i += len
        }
        offsets.append(end - base)
    }

    @inline(__always) func byteRange(_ r: Range<Int>) -> Range<Int> { offsets[r.lowerBound]..<offsets[r.upperBound] }
}
