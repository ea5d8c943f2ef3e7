import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite("f16 / bf16 conversions") struct HalfFloatTests {
    @Test func everyHalfRoundTripsThroughFloat() {
        for h in 0...UInt16.max {
            let f = HalfFloat.toFloat(h)
            #expect(HalfFloat.fromFloat(f) == h, "half 0x\(String(h, radix: 16))")
            if h & 0x7c00 != 0x7c00 {
                // Finite halves agree with the platform's Float16 (independent conversion).
                #expect(f == Float(Float16(bitPattern: h)) && f.sign == Float(Float16(bitPattern: h)).sign)
            }
        }
    }

    @Test func roundingToHalfMatchesPlatformOnFiniteValues() {
        var rng = QuantTestSupport.Rng(seed: 42)
        for _ in 0..<200_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            guard !f.isNaN else { continue }
            #expect(HalfFloat.fromFloat(f) == Float16(f).bitPattern, "f32 0x\(String(f.bitPattern, radix: 16))")
        }
    }

    @Test func bfloat16RoundsToNearestEvenAndKeepsNaNQuiet() {
        #expect(HalfFloat.bfloat16FromFloat(Float(bitPattern: 0x3f80_8000)) == 0x3f80)   // tie → even
        #expect(HalfFloat.bfloat16FromFloat(Float(bitPattern: 0x3f81_8000)) == 0x3f82)   // tie → even (up)
        #expect(HalfFloat.bfloat16FromFloat(Float(bitPattern: 0x3f80_8001)) == 0x3f81)
        #expect(HalfFloat.bfloat16FromFloat(Float(bitPattern: 0x7f7f_ffff)) == 0x7f80)   // overflow → inf
        #expect(HalfFloat.bfloat16FromFloat(Float(bitPattern: 0x7f80_0001)) == 0x7fc0)   // sNaN → quiet NaN
        #expect(HalfFloat.bfloat16FromFloat(Float(bitPattern: 0xffa0_0000)) == 0xffe0)   // sign + payload kept
        #expect(HalfFloat.bfloat16FromFloat(-.infinity) == 0xff80)
        for h in 0...UInt16.max where h & 0x7f80 != 0x7f80 || h & 0x7f == 0 {
            #expect(HalfFloat.bfloat16FromFloat(HalfFloat.bfloat16ToFloat(h)) == h)
        }
    }
}
