/// `KQuantSearch.affine` for the eight 32-value sub-blocks of a Q4_K/Q5_K super-block at once:
/// lane j of every vector is sub-block j. Each lane performs exactly the scalar operations in
/// the same order (IEEE ops are lane-wise), so results are bit-identical to the scalar search;
/// running eight independent searches side by side only hides the latency of the sequential sums.
package enum KQuantSearch8 {
    package typealias F8 = SIMD8<Float>
    package typealias I8 = SIMD8<Int32>

    @inline(__always)
    package static func nearestInt(_ v: F8) -> I8 {
        let shifted = v + 12582912
        let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) & 0x007f_ffff
        return unsafeBitCast(bits, to: I8.self) &- 0x0040_0000
    }

    @inline(__always)
    package static func abs(_ v: F8) -> F8 {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: F8.self)
    }

    /// Scratch vectors for `affine`, allocated once per encode call.
    package final class Scratch {
        package let xs = UnsafeMutablePointer<F8>.allocate(capacity: 32)
        package let ws = UnsafeMutablePointer<F8>.allocate(capacity: 32)
        package let best = UnsafeMutablePointer<I8>.allocate(capacity: 32)
        package let aux = UnsafeMutablePointer<I8>.allocate(capacity: 32)
        package init() {
            xs.initialize(repeating: F8(), count: 32)
            ws.initialize(repeating: F8(), count: 32)
            best.initialize(repeating: I8(), count: 32)
            aux.initialize(repeating: I8(), count: 32)
        }
        deinit {
            xs.deallocate(); ws.deallocate(); best.deallocate(); aux.deallocate()
        }
    }

    /// Fits the 256 values at `x` (weights av_x + |x| per sub-block), writes the 256 levels
    /// (0...nmax) and returns per-sub-block (scale, theMin), as `KQuantSearch.affine` would.
    package static func affine(
        nmax: Int, x: UnsafePointer<Float>, levels out: UnsafeMutablePointer<UInt8>,
        rmin: Float, rdelta: Float, steps: Int, scratch: Scratch
    ) -> (scales: F8, mins: F8) {
        search(nmax: nmax, x: x, out: out, rmin: rmin, rdelta: rdelta, steps: steps,
               xs: scratch.xs, ws: scratch.ws, best: scratch.best, aux: scratch.aux)
    }

    @inline(__always)
    private static func search(
        nmax: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<UInt8>, rmin: Float, rdelta: Float, steps: Int,
        xs: UnsafeMutablePointer<F8>, ws: UnsafeMutablePointer<F8>, best: UnsafeMutablePointer<I8>, aux: UnsafeMutablePointer<I8>
    ) -> (scales: F8, mins: F8) {
        for i in 0..<32 {
            xs[i] = F8(x[i], x[32 + i], x[64 + i], x[96 + i], x[128 + i], x[160 + i], x[192 + i], x[224 + i])
        }
        var sumX2 = F8()
        for i in 0..<32 { sumX2 += xs[i] * xs[i] }
        let avX = (sumX2 / 32).squareRoot()
        for i in 0..<32 { ws[i] = avX + abs(xs[i]) }

        var min = xs[0], max = xs[0]
        var sumW = ws[0]
        var sumX = sumW * xs[0]
        for i in 1..<32 {
            min.replace(with: xs[i], where: xs[i] .< min)
            max.replace(with: xs[i], where: xs[i] .> max)
            sumW += ws[i]
            sumX += ws[i] * xs[i]
        }
        min.replace(with: 0, where: min .> 0)
        let degenerate = max .== min
        let fmax = Float(nmax)
        let lo = I8(repeating: 0), hi = I8(repeating: Int32(nmax))
        var iscale = F8(repeating: fmax) / (max - min)
        var scale = 1 / iscale
        var bestError = F8()
        for i in 0..<32 {
            let l = pointwiseMax(lo, pointwiseMin(hi, nearestInt(iscale * (xs[i] - min))))
            best[i] = l
            let diff = scale * F8(l) + min - xs[i]
            bestError += ws[i] * (diff * diff)
        }
        for step in 0...steps {
            iscale = F8(repeating: rmin + rdelta * Float(step) + fmax) / (max - min)
            var sumL = F8(), sumL2 = F8(), sumXL = F8()
            for i in 0..<32 {
                let l = pointwiseMax(lo, pointwiseMin(hi, nearestInt(iscale * (xs[i] - min))))
                aux[i] = l
                let fl = F8(l)
                let w = ws[i]
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * xs[i]
            }
            let det = sumW * sumL2 - sumL * sumL
            let solvable = det .> 0
            if !any(solvable) { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / det
            var thisMin = (sumL2 * sumX - sumL * sumXL) / det
            let clampMin = thisMin .> 0
            thisMin.replace(with: 0, where: clampMin)
            thisScale.replace(with: sumXL / sumL2, where: clampMin)
            var error = F8()
            for i in 0..<32 {
                let diff = thisScale * F8(aux[i]) + thisMin - xs[i]
                error += ws[i] * (diff * diff)
            }
            let accept = solvable .& (error .< bestError) .& .!degenerate
            if !any(accept) { continue }
            for i in 0..<32 { best[i].replace(with: aux[i], where: accept) }
            bestError.replace(with: error, where: accept)
            scale.replace(with: thisScale, where: accept)
            min.replace(with: thisMin, where: accept)
        }
        scale.replace(with: 0, where: degenerate)
        for i in 0..<32 {
            let l = best[i].replacing(with: 0, where: degenerate)
            for j in 0..<8 { out[32 * j + i] = UInt8(truncatingIfNeeded: l[j]) }
        }
        // Negate by flipping the sign bit: SIMD's prefix minus computes 0 − x, which turns +0 into
        // +0 where the scalar code gives −0.
        return (scale, unsafeBitCast(unsafeBitCast(min, to: SIMD8<UInt32>.self) ^ 0x8000_0000, to: F8.self))
    }
}
