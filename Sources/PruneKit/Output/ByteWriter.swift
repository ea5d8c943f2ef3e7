/// Bytes with LEB128 varints.
struct ByteWriter {
    private(set) var data: [UInt8] = []
    mutating func byte(_ b: UInt8) { data.append(b) }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            data.append(UInt8(x & 0x7F) | 0x80)
            x >>= 7
        }
        data.append(UInt8(x))
    }
}
