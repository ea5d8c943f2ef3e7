/// Reads what `ByteWriter` wrote.
struct ByteReader {
    let data: [UInt8]
    var position = 0
    init(_ data: [UInt8]) { self.data = data }

    mutating func byte() throws -> UInt8 {
        guard position < data.count else { throw ResidualFailure("truncated") }
        defer { position += 1 }
        return data[position]
    }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, shift < 63 || b <= 1 else { throw ResidualFailure("varint overflows") }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }
}
