/// ggml Q6_K: super-blocks of 256 values = 128 bytes of low nibbles (`ql`), 64 bytes of 2-bit high
/// parts (`qh`), 16 signed 8-bit scales and an f16 `d`; value decodes as d·scale·(q − 32) with one
/// scale per 16 values.
///
/// Quantization follows `quantize_row_q6_K_ref`: a symmetric fit per 16 values (weights x²),
/// scales quantized to int8 against the largest, then requantization.
package enum Q6_K: BlockCodec {
    package static let type = GGMLType.q6_K

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let qlBase = block.assumingMemoryBound(to: UInt8.self)
        let qhBase = (block + 128).assumingMemoryBound(to: UInt8.self)
        let scBase = (block + 192).assumingMemoryBound(to: Int8.self)
        let d = QuantMath.loadHalf(block, 208)
        for half in 0..<2 {
            let ql = qlBase + 64 * half
            let qh = qhBase + 32 * half
            let sc = scBase + 8 * half
            let y = out + 128 * half
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32
                let q2 = Int((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32
                let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                y[l] = d * Float(sc[s]) * Float(q1)
                y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
        }
    }

    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int? {
        let levels = UnsafeMutablePointer<Int8>.allocate(capacity: 256)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        defer { levels.deallocate(); scales.deallocate() }
        var failed: Int?
        for b in 0..<blocks {
            let x = src + 256 * b
            let block = dst + bytesPerBlock * b
            var maxScale: Float = 0
            var maxAbsScale: Float = 0
            for ib in 0..<16 {
                let scale = KQuantSearch.symmetric(n: 16, nmax: 32, x: x + 16 * ib, levels: levels + 16 * ib)
                scales[ib] = scale
                if scale.magnitude > maxAbsScale {
                    maxAbsScale = scale.magnitude
                    maxScale = scale
                }
            }
            if failed == nil && !QuantMath.allFinite(scales, 16) { failed = b }
            if maxAbsScale < KQuantSearch.groupMaxEpsilon {
                for i in 0..<bytesPerBlock { block.storeBytes(of: 0, toByteOffset: i, as: UInt8.self) }
                continue
            }
            let iscale = -128 / maxScale
            let d = 1 / iscale
            if failed == nil && !QuantMath.fitsHalf(d) { failed = b }
            QuantMath.storeHalf(d, block, 208)
            let sc = (block + 192).assumingMemoryBound(to: Int8.self)
            for ib in 0..<16 {
                sc[ib] = Int8(Swift.max(-128, Swift.min(127, QuantMath.nearestInt(iscale * scales[ib]))))
            }
            let dq = QuantMath.loadHalf(block, 208)
            for j in 0..<16 {
                let dj = dq * Float(sc[j])
                if dj == 0 { continue }
                for i in 0..<16 {
                    let l = Swift.max(-32, Swift.min(31, QuantMath.nearestInt(x[16 * j + i] / dj)))
                    levels[16 * j + i] = Int8(l + 32)
                }
            }
            let ql = block.assumingMemoryBound(to: UInt8.self)
            let qh = (block + 128).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                let base = 128 * half
                for l in 0..<32 {
                    let q1 = UInt8(levels[base + l]), q2 = UInt8(levels[base + l + 32])
                    let q3 = UInt8(levels[base + l + 64]), q4 = UInt8(levels[base + l + 96])
                    ql[64 * half + l] = (q1 & 0x0f) | ((q3 & 0x0f) << 4)
                    ql[64 * half + l + 32] = (q2 & 0x0f) | ((q4 & 0x0f) << 4)
                    qh[32 * half + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
                }
            }
        }
        return failed
    }
}
