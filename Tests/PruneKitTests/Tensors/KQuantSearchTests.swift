import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite("K-quant scale search") struct KQuantSearchTests {
    /// The eight-lane search must give exactly what the scalar search gives on each sub-block,
    /// including degenerate ones (constant, all zero, one-signed, tiny, spread-out values).
    @Test("8-lane affine search equals the scalar one bit for bit", arguments: [(15, Float(-1), 20), (31, Float(-0.5), 15)])
    func vectorMatchesScalar(_ params: (Int, Float, Int)) {
        let (nmax, rmin, steps) = params
        var rng = QuantTestSupport.Rng(seed: UInt64(nmax))
        let scratch = KQuantSearch8.Scratch()
        var x = [Float](repeating: 0, count: 256)
        var vecLevels = [UInt8](repeating: 0, count: 256)
        var refLevels = [UInt8](repeating: 0, count: 256)
        var weights = [Float](repeating: 0, count: 32)
        var aux = [UInt8](repeating: 0, count: 32)
        for trial in 0..<3000 {
            for j in 0..<8 {
                let kind = Int(rng.next() % 8)
                let scale = Float(pow(10, rng.uniform() * 8 - 6))
                for i in 0..<32 {
                    let v: Float
                    switch kind {
                    case 0: v = 0
                    case 1: v = scale
                    case 2: v = -scale
                    case 3: v = scale * Float(rng.uniform())                      // all positive
                    case 4: v = -scale * Float(rng.uniform())                     // all negative
                    case 5: v = i == 7 ? scale : 0
                    default: v = rng.normal() * scale
                    }
                    x[32 * j + i] = v
                }
            }
            let fit = x.withUnsafeBufferPointer { xp in
                vecLevels.withUnsafeMutableBufferPointer { lp in
                    KQuantSearch8.affine(nmax: nmax, x: xp.baseAddress!, levels: lp.baseAddress!, rmin: rmin, rdelta: 0.1, steps: steps, scratch: scratch)
                }
            }
            for j in 0..<8 {
                var sumX2: Float = 0
                for l in 0..<32 { sumX2 += x[32 * j + l] * x[32 * j + l] }
                let avX = (sumX2 / 32).squareRoot()
                for l in 0..<32 { weights[l] = avX + x[32 * j + l].magnitude }
                let ref = x.withUnsafeBufferPointer { xp in
                    weights.withUnsafeBufferPointer { wp in
                        refLevels.withUnsafeMutableBufferPointer { lp in
                            aux.withUnsafeMutableBufferPointer { ap in
                                KQuantSearch.affine(n: 32, nmax: nmax, x: xp.baseAddress! + 32 * j, weights: wp.baseAddress!,
                                                    levels: lp.baseAddress! + 32 * j, scratch: ap.baseAddress!,
                                                    rmin: rmin, rdelta: 0.1, steps: steps, useMad: false)
                            }
                        }
                    }
                }
                #expect(ref.scale.bitPattern == fit.scales[j].bitPattern && ref.theMin.bitPattern == fit.mins[j].bitPattern,
                        "trial \(trial) sub-block \(j): scalar (\(ref.scale), \(ref.theMin)) vs lanes (\(fit.scales[j]), \(fit.mins[j]))")
            }
            #expect(refLevels == vecLevels, "trial \(trial): levels differ")
            if refLevels != vecLevels { break }
        }
    }
}
