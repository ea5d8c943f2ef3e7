/// A minimal protocol-buffers wire-format reader (varints, fixed32/64, length-delimited fields),
/// enough for SentencePiece's `ModelProto`. Every read is bounds-checked; errors carry the byte offset.
struct ProtobufReader {
    enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5 }

    struct Failure: Error { var message: String; var offset: Int }

    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(Range<Int>)
    }

    let bytes: [UInt8]
    /// Offset of `bytes[0]` in the whole file (for messages nested inside others).
    let base: Int
    private(set) var pos: Int
    let end: Int

    init(_ bytes: [UInt8], range: Range<Int>? = nil, base: Int = 0) {
        self.bytes = bytes
        self.base = base
        pos = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    var isAtEnd: Bool { pos >= end }
    var offset: Int { base + pos }

    mutating func varint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = pos
        while true {
            guard pos < end else { throw Failure(message: "truncated varint", offset: base + start) }
            let b = bytes[pos]
            pos += 1
            if shift == 63 && b > 1 { throw Failure(message: "varint longer than 64 bits", offset: base + start) }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw Failure(message: "varint longer than 10 bytes", offset: base + start) }
        }
    }

    /// The next field: its number and value (nil at the end of the message).
    mutating func next() throws(Failure) -> (field: Int, value: Value)? {
        guard pos < end else { return nil }
        let at = pos
        let key = try varint()
        let field = key >> 3
        guard field > 0, field < 1 << 29 else { throw Failure(message: "invalid field number \(field)", offset: base + at) }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw Failure(message: "invalid wire type \(key & 7) of field \(field)", offset: base + at)
        }
        switch wire {
        case .varint:
            return (Int(field), .varint(try varint()))
        case .fixed64:
            guard end - pos >= 8 else { throw Failure(message: "truncated fixed64 field \(field)", offset: base + pos) }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[pos + k]) << (8 * UInt64(k)) }
            pos += 8
            return (Int(field), .fixed64(v))
        case .fixed32:
            guard end - pos >= 4 else { throw Failure(message: "truncated fixed32 field \(field)", offset: base + pos) }
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(bytes[pos + k]) << (8 * UInt32(k)) }
            pos += 4
            return (Int(field), .fixed32(v))
        case .lengthDelimited:
            let lenAt = pos
            let len = try varint()
            guard len <= UInt64(end - pos) else {
                throw Failure(message: "field \(field) of \(len) bytes runs past the end of its message", offset: base + lenAt)
            }
            let r = pos..<(pos + Int(len))
            pos += Int(len)
            return (Int(field), .bytes(r))
        case .startGroup, .endGroup:
            throw Failure(message: "groups are not supported (field \(field))", offset: base + at)
        }
    }
}
