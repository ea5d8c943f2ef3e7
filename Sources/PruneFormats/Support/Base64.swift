/// Standard padded base64 (RFC 4648, section 4), encoding only: the bytes, not a String, so that
/// megabytes of inline factors are encoded and compared without Foundation's string round trip.
package enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The encoded length of `count` bytes.
    package static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    package static func encode(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { encode($0) }
    }

    package static func encode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let n = bytes.count
        return [UInt8](unsafeUninitializedCapacity: encodedCount(n)) { out, written in
            alphabet.withUnsafeBufferPointer { a in
                var i = 0, o = 0
                while i + 3 <= n {
                    let w = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = a[Int(w >> 18)]
                    out[o + 1] = a[Int((w >> 12) & 63)]
                    out[o + 2] = a[Int((w >> 6) & 63)]
                    out[o + 3] = a[Int(w & 63)]
                    i += 3
                    o += 4
                }
                if i < n {
                    let second = i + 1 < n
                    let w = UInt32(bytes[i]) << 16 | (second ? UInt32(bytes[i + 1]) << 8 : 0)
                    out[o] = a[Int(w >> 18)]
                    out[o + 1] = a[Int((w >> 12) & 63)]
                    out[o + 2] = second ? a[Int((w >> 6) & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                    o += 4
                }
                written = o
            }
        }
    }
}
