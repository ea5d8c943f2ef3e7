/// The scale searches of ggml's K-quant reference quantizers (`make_qkx2_quants`,
/// `make_qx_quants`, `make_q3_quants` in ggml-quants.c), written for this project: same
/// arithmetic, in the same order, so results stay close to llama.cpp's files.
package enum KQuantSearch {
    /// Groups whose largest magnitude is below this are treated as all zero (ggml's GROUP_MAX_EPS).
    package static let groupMaxEpsilon: Float = 1e-15

    /// Affine fit x ≈ scale·L − theMin with L in 0...nmax, minimising the weighted squared (or
    /// absolute, `useMad`) error over a small grid of candidate scales. Returns (scale, theMin ≥ 0).
    package static func affine(
        n: Int, nmax: Int, x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        levels: UnsafeMutablePointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>,
        rmin: Float, rdelta: Float, steps: Int, useMad: Bool
    ) -> (scale: Float, theMin: Float) {
        var min = x[0]
        var max = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < min { min = x[i] }
            if x[i] > max { max = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if min > 0 { min = 0 }
        if max == min {
            for i in 0..<n { levels[i] = 0 }
            return (0, -min)
        }
        let fmax = Float(nmax)
        var iscale = fmax / (max - min)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = Swift.max(0, Swift.min(Int32(nmax), QuantMath.nearestIntBounded(iscale * (x[i] - min))))
            levels[i] = UInt8(l)
            var diff = scale * Float(l) + min - x[i]
            diff = useMad ? diff.magnitude : diff * diff
            bestError += weights[i] * diff
        }
        guard steps >= 1 else { return (scale, -min) }
        for step in 0...steps {
            iscale = (rmin + rdelta * Float(step) + fmax) / (max - min)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = Swift.max(0, Swift.min(Int32(nmax), QuantMath.nearestIntBounded(iscale * (x[i] - min))))
                scratch[i] = UInt8(l)
                let w = weights[i]
                let fl = Float(l)
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * x[i]
            }
            let det = sumW * sumL2 - sumL * sumL
            if det > 0 {
                var thisScale = (sumW * sumXL - sumX * sumL) / det
                var thisMin = (sumL2 * sumX - sumL * sumXL) / det
                if thisMin > 0 {
                    thisMin = 0
                    thisScale = sumXL / sumL2
                }
                var error: Float = 0
                for i in 0..<n {
                    var diff = thisScale * Float(scratch[i]) + thisMin - x[i]
                    diff = useMad ? diff.magnitude : diff * diff
                    error += weights[i] * diff
                }
                if error < bestError {
                    for i in 0..<n { levels[i] = scratch[i] }
                    bestError = error
                    scale = thisScale
                    min = thisMin
                }
            }
        }
        return (scale, -min)
    }

    /// Symmetric fit x ≈ scale·(L − nmax) with L in 0..<2·nmax, weights x² (ggml's rmse_type 1),
    /// trying 18 scales around nmax/max. Returns the (signed) scale.
    package static func symmetric(n: Int, nmax: Int, x: UnsafePointer<Float>, levels: UnsafeMutablePointer<Int8>) -> Float {
        guard let max = signedMax(n: n, x: x, levels: levels) else { return 0 }
        let lo = Int32(-nmax), hi = Int32(nmax - 1)
        var iscale = -Float(nmax) / max
        var (sumLX, sumL2) = weightedLevels(n: n, x: x, iscale: iscale, range: lo...hi, offset: Int32(nmax), into: levels)
        var scale: Float = sumL2 != 0 ? sumLX / sumL2 : 0
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            iscale = -(Float(nmax) + 0.1 * Float(step)) / max
            (sumLX, sumL2) = weightedLevels(n: n, x: x, iscale: iscale, range: lo...hi, offset: 0, into: nil)
            if sumL2 > 0 && sumLX * sumLX > best * sumL2 {
                for i in 0..<n {
                    let l = Swift.max(lo, Swift.min(hi, QuantMath.nearestIntBounded(iscale * x[i])))
                    levels[i] = Int8(l + Int32(nmax))
                }
                scale = sumLX / sumL2
                best = scale * sumLX
            }
        }
        return scale
    }

    /// Symmetric fit for Q3_K (ggml's `make_q3_quants` with rmse refinement): levels in
    /// 0..<2·nmax, then up to 5 rounds of per-element coordinate descent. Returns the scale.
    package static func symmetricRefined(n: Int, nmax: Int, x: UnsafePointer<Float>, levels: UnsafeMutablePointer<Int8>) -> Float {
        guard let max = signedMax(n: n, x: x, levels: levels) else { return 0 }
        let lo = Int32(-nmax), hi = Int32(nmax - 1)
        var (sumLX, sumL2) = weightedLevels(n: n, x: x, iscale: -Float(nmax) / max, range: lo...hi, offset: 0, into: levels)
        for _ in 0..<5 {
            var changed = 0
            for i in 0..<n {
                let w = x[i] * x[i]
                let li = Float(levels[i])
                var slx = sumLX - w * x[i] * li
                if slx > 0 {
                    var sl2 = sumL2 - w * li * li
                    let newL = Swift.max(lo, Swift.min(hi, QuantMath.nearestIntBounded(x[i] * sl2 / slx)))
                    if newL != Int32(levels[i]) {
                        let fl = Float(newL)
                        slx += w * x[i] * fl
                        sl2 += w * fl * fl
                        if sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2 {
                            levels[i] = Int8(newL)
                            sumLX = slx
                            sumL2 = sl2
                            changed += 1
                        }
                    }
                }
            }
            if changed == 0 { break }
        }
        for i in 0..<n { levels[i] += Int8(nmax) }
        return sumL2 > 0 ? sumLX / sumL2 : 0
    }

    /// The signed value of largest magnitude of x[0..<n] (the first of equal magnitudes); nil, with
    /// the levels zeroed, when it is below `groupMaxEpsilon` (ggml's all-zero group).
    static func signedMax(n: Int, x: UnsafePointer<Float>, levels: UnsafeMutablePointer<Int8>) -> Float? {
        var max: Float = 0
        var amax: Float = 0
        for i in 0..<n where x[i].magnitude > amax {
            amax = x[i].magnitude
            max = x[i]
        }
        if amax < groupMaxEpsilon {
            for i in 0..<n { levels[i] = 0 }
            return nil
        }
        return max
    }

    /// Levels l = nearest(iscale·x) clamped to `range` (stored + `offset` when `levels` is given)
    /// and the weighted sums Σ w·x·l, Σ w·l² with w = x², in element order.
    static func weightedLevels(n: Int, x: UnsafePointer<Float>, iscale: Float, range: ClosedRange<Int32>, offset: Int32,
                               into levels: UnsafeMutablePointer<Int8>?) -> (sumLX: Float, sumL2: Float) {
        var sumLX: Float = 0
        var sumL2: Float = 0
        for i in 0..<n {
            let l = Swift.max(range.lowerBound, Swift.min(range.upperBound, QuantMath.nearestIntBounded(iscale * x[i])))
            levels?[i] = Int8(l + offset)
            let w = x[i] * x[i]
            let fl = Float(l)
            sumLX += w * x[i] * fl
            sumL2 += w * fl * fl
        }
        return (sumLX, sumL2)
    }
}

/// The 12-byte packing of eight 6-bit (scale, min) pairs used by Q4_K and Q5_K.
package enum KScales {
    @inline(__always)
    package static func get(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        let b = q.assumingMemoryBound(to: UInt8.self)
        if j < 4 {
            return (b[j] & 63, b[j + 4] & 63)
        }
        return ((b[j + 4] & 0x0f) | ((b[j - 4] >> 6) << 4), (b[j + 4] >> 4) | ((b[j] >> 6) << 4))
    }

    /// Writes 8 scales and 8 mins (each 0...63) into 12 bytes at `q`.
    package static func pack(scales ls: UnsafePointer<UInt8>, mins lm: UnsafePointer<UInt8>, into q: UnsafeMutableRawPointer) {
        let b = q.assumingMemoryBound(to: UInt8.self)
        for j in 0..<12 { b[j] = 0 }
        for j in 0..<8 {
            if j < 4 {
                b[j] = ls[j]
                b[j + 4] = lm[j]
            } else {
                b[j + 4] = (ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4)
                b[j - 4] |= (ls[j] >> 4) << 6
                b[j] |= (lm[j] >> 4) << 6
            }
        }
    }
}
