/// `KQuantSearch.symmetric` (n = 16, weights x²) for the sixteen 16-value sub-blocks of a Q6_K
/// super-block at once: lane j of every vector is sub-block j. Each lane performs exactly the
/// scalar operations in the same order, so results are bit-identical to the scalar search.
enum KQuantSearch16 {
    typealias F16 = SIMD16<Float>
    typealias I16 = SIMD16<Int32>

    @inline(__always)
    static func nearestInt(_ v: F16) -> I16 {
        let shifted = v + 12582912
        let bits = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) & 0x007f_ffff
        return unsafeBitCast(bits, to: I16.self) &- 0x0040_0000
    }

    /// Scratch vectors, allocated once per encode call.
    final class Scratch {
        let xs = UnsafeMutablePointer<F16>.allocate(capacity: 16)
        let best = UnsafeMutablePointer<I16>.allocate(capacity: 16)
        let aux = UnsafeMutablePointer<I16>.allocate(capacity: 16)
        init() {
            xs.initialize(repeating: F16(), count: 16)
            best.initialize(repeating: I16(), count: 16)
            aux.initialize(repeating: I16(), count: 16)
        }
        deinit { xs.deallocate(); best.deallocate(); aux.deallocate() }
    }

    /// Fits the 256 values at `x`, writes the levels (0..<2·nmax) and returns the 16 scales.
    static func symmetric(nmax: Int, x: UnsafePointer<Float>, levels out: UnsafeMutablePointer<Int8>, scratch: Scratch) -> F16 {
        let xs = scratch.xs, best = scratch.best, aux = scratch.aux
        for i in 0..<16 {
            var v = F16()
            for j in 0..<16 { v[j] = x[16 * j + i] }
            xs[i] = v
        }
        var max = F16(), amax = F16()
        for i in 0..<16 {
            let m = unsafeBitCast(unsafeBitCast(xs[i], to: SIMD16<UInt32>.self) & 0x7fff_ffff, to: F16.self)
            let larger = m .> amax
            amax.replace(with: m, where: larger)
            max.replace(with: xs[i], where: larger)
        }
        let zero = amax .< KQuantSearch.groupMaxEpsilon
        let lo = I16(repeating: Int32(-nmax)), hi = I16(repeating: Int32(nmax - 1))
        let offset = I16(repeating: Int32(nmax))
        var iscale = F16(repeating: -Float(nmax)) / max
        var sumLX = F16(), sumL2 = F16()
        for i in 0..<16 {
            let l = pointwiseMax(lo, pointwiseMin(hi, nearestInt(iscale * xs[i])))
            best[i] = l &+ offset
            let w = xs[i] * xs[i]
            let fl = F16(l)
            sumLX += w * xs[i] * fl
            sumL2 += w * fl * fl
        }
        var scale = sumLX / sumL2
        scale.replace(with: 0, where: sumL2 .== 0)
        var bestValue = scale * sumLX
        for step in -9...9 where step != 0 {
            iscale = F16(repeating: -(Float(nmax) + 0.1 * Float(step))) / max
            sumLX = F16()
            sumL2 = F16()
            for i in 0..<16 {
                let l = pointwiseMax(lo, pointwiseMin(hi, nearestInt(iscale * xs[i])))
                aux[i] = l &+ offset
                let w = xs[i] * xs[i]
                let fl = F16(l)
                sumLX += w * xs[i] * fl
                sumL2 += w * fl * fl
            }
            let accept = (sumL2 .> 0) .& (sumLX * sumLX .> bestValue * sumL2) .& .!zero
            if !any(accept) { continue }
            for i in 0..<16 { best[i].replace(with: aux[i], where: accept) }
            scale.replace(with: sumLX / sumL2, where: accept)
            bestValue.replace(with: scale * sumLX, where: accept)
        }
        scale.replace(with: 0, where: zero)
        for i in 0..<16 {
            let l = best[i].replacing(with: 0, where: zero)
            for j in 0..<16 { out[16 * j + i] = Int8(truncatingIfNeeded: l[j]) }
        }
        return scale
    }
}
