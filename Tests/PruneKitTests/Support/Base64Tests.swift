import Foundation
import Testing
@testable import PruneFormats

/// prune's base64 encoder against Foundation's (an independent implementation of RFC 4648).
@Suite struct Base64Tests {
    @Test func matchesFoundationOnEveryLengthAndByte() {
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return UInt8(truncatingIfNeeded: (s &* 0x2545_F491_4F6C_DD1D) >> 56) }
        var cases: [[UInt8]] = (0..<200).map { n in (0..<n).map { _ in next() } }
        cases.append((0..<256).map { UInt8($0) })                 // every byte value
        cases.append([UInt8](repeating: 0xFF, count: 1 << 16))
        for bytes in cases {
            let ours = Base64.encode(bytes)
            #expect(ours == Array(Data(bytes).base64EncodedString().utf8), "length \(bytes.count)")
            #expect(ours.count == Base64.encodedCount(bytes.count))
        }
        #expect(Base64.encode(Array("foob".utf8)) == Array("Zm9vYg==".utf8))   // RFC 4648 section 10
        #expect(Base64.encode(Array("fooba".utf8)) == Array("Zm9vYmE=".utf8))
    }
}
