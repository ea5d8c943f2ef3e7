/// ggml Q3_K: super-blocks of 256 values = 32 bytes of high-bit masks, 64 bytes of 2-bit codes,
/// 12 bytes of sixteen 6-bit signed scales and an f16 `d`; value i decodes as
/// d·(s − 32)·(q − 4·(1 − h)) where h is bit i/32 of mask byte i%32.
///
/// Quantization follows `quantize_row_q3_K_ref`: a refined symmetric fit per 16 values, 6-bit
/// scales against the largest, then requantization.
package enum Q3_K: BlockCodec {
    package static let type = GGMLType.q3_K

    /// The 6-bit scale j (0..<16), before subtracting 32.
    @inline(__always)
    package static func scale(_ j: Int, _ s: UnsafePointer<UInt8>) -> Int {
        let low = j < 8 ? s[j] & 0x0f : s[j - 8] >> 4
        let high = (s[8 + j % 4] >> UInt8(2 * (j / 4))) & 3
        return Int(low | (high << 4))
    }

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let hmask = block.assumingMemoryBound(to: UInt8.self)
        let qs = (block + 32).assumingMemoryBound(to: UInt8.self)
        let sc = (block + 96).assumingMemoryBound(to: UInt8.self)
        let d = QuantMath.loadHalf(block, 108)
        for i in 0..<256 {
            let half = i / 128, within = i % 128
            let shift = UInt8(2 * (within / 32))
            let low = Int((qs[32 * half + within % 32] >> shift) & 3)
            let high = (hmask[i % 32] >> UInt8(i / 32)) & 1
            let q = low - (high != 0 ? 0 : 4)
            let dl = d * Float(scale(i / 16, sc) - 32)
            out[i] = dl * Float(q)
        }
    }

    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int? {
        let levels = UnsafeMutablePointer<Int8>.allocate(capacity: 256)
        let unsigned = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        defer { levels.deallocate(); unsigned.deallocate(); scales.deallocate() }
        var failed: Int?
        for b in 0..<blocks {
            let x = src + 256 * b
            let block = dst + bytesPerBlock * b
            let hmask = block.assumingMemoryBound(to: UInt8.self)
            let sc = (block + 96).assumingMemoryBound(to: UInt8.self)
            var maxScale: Float = 0
            var amax: Float = 0
            for j in 0..<16 {
                let s = KQuantSearch.symmetricRefined(n: 16, nmax: 4, x: x + 16 * j, levels: levels + 16 * j)
                scales[j] = s
                if s.magnitude > amax {
                    amax = s.magnitude
                    maxScale = s
                }
            }
            for j in 0..<12 { sc[j] = 0 }
            var d: Float = 0
            if maxScale != 0 {
                let iscale = -32 / maxScale
                for j in 0..<16 {
                    let l = UInt8(Swift.max(-32, Swift.min(31, QuantMath.nearestInt(iscale * scales[j]))) + 32)
                    if j < 8 {
                        sc[j] = l & 0x0f
                    } else {
                        sc[j - 8] |= (l & 0x0f) << 4
                    }
                    sc[8 + j % 4] |= (l >> 4) << UInt8(2 * (j / 4))
                }
                d = 1 / iscale
            }
            if failed == nil && !(QuantMath.fitsHalf(d) && QuantMath.allFinite(scales, 16)) { failed = b }
            QuantMath.storeHalf(d, block, 108)
            let dq = QuantMath.loadHalf(block, 108)
            for j in 0..<16 {
                let dj = dq * Float(scale(j, sc) - 32)
                if dj == 0 { continue }
                for i in 0..<16 {
                    let l = Swift.max(-4, Swift.min(3, QuantMath.nearestInt(x[16 * j + i] / dj)))
                    levels[16 * j + i] = Int8(l + 4)
                }
            }
            for j in 0..<32 { hmask[j] = 0 }
            for i in 0..<256 {
                var l = UInt8(Swift.max(0, Swift.min(7, levels[i])))
                if l > 3 {
                    hmask[i % 32] |= UInt8(1) << UInt8(i / 32)
                    l -= 4
                }
                unsigned[i] = l
            }
            TwoBitPacking.pack(unsigned, into: block + 32)
        }
        return failed
    }
}
