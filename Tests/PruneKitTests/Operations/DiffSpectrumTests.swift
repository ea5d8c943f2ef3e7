import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The randomized rank probe (tensors wider than 1024 both ways) against matrices of known spectrum.
@Suite("DiffSpectrum") struct DiffSpectrumTests {
    /// U·diag(s)·Vᵀ with orthonormal U, V (from QR of seeded random matrices), plus optional noise.
    static func lowRank(rows: Int, cols: Int, sigmas: [Double], noise: Float, seed: UInt64) throws -> [Float] {
        var rng = SplitMix64(seed: seed)
        var a = Matrix(rows: rows, cols: sigmas.count)
        var b = Matrix(rows: cols, cols: sigmas.count)
        for i in 0..<a.storage.count { a.storage[i] = rng.nextSigned() }
        for i in 0..<b.storage.count { b.storage[i] = rng.nextSigned() }
        let u = try a.qr().q.scalingColumns(by: sigmas), v = try b.qr().q
        let d = Matrix.gemm(u, v, transposeB: true)
        return d.storage.map { Float($0) + noise * Float(rng.nextSigned()) }
    }

    @Test("the randomized probe finds the exact rank and singular values of a big low-rank Δ")
    func randomizedExactRank() throws {
        let sig = [5.0, 3.0, 1.0, 0.25, 0.1]
        let d = try Self.lowRank(rows: 1100, cols: 1300, sigmas: sig, noise: 0, seed: 3)
        let s = try DiffSpectrumCalculator.compute(delta: d, rows: 1100, cols: 1300, noiseFloor: 0, top: 8,
                                                   maxProbe: 256, tensor: "t")
        #expect(s.method == "randomized")
        #expect(s.rank == 5)
        #expect(!s.rankIsLowerBound)
        for i in 0..<5 { #expect(abs(s.topSingularValues[i] - sig[i]) < 1e-5 * sig[0]) }
    }

    @Test("noise below the floor is not counted; a full-rank Δ beyond the probe cap is a lower bound")
    func noiseAndCap() throws {
        let d = try Self.lowRank(rows: 1030, cols: 1100, sigmas: [4, 2], noise: 1e-4, seed: 5)
        // Noise of uniform amplitude 1e-4: σ_max ≈ 1e-4/√3·(√1030+√1100) ≈ 3.9e-3.
        let s = try DiffSpectrumCalculator.compute(delta: d, rows: 1030, cols: 1100, noiseFloor: 1e-2, top: 4,
                                                   maxProbe: 256, tensor: "t")
        #expect(s.rank == 2)
        #expect(!s.rankIsLowerBound)
        let capped = try DiffSpectrumCalculator.compute(delta: d, rows: 1030, cols: 1100, noiseFloor: 0, top: 4,
                                                        maxProbe: 32, tensor: "t")
        #expect(capped.rankIsLowerBound)
        #expect(capped.rank >= 32)
    }

    @Test("dense path agrees with the known spectrum; a zero Δ has rank 0")
    func dense() throws {
        let d = try Self.lowRank(rows: 200, cols: 300, sigmas: [2, 1, 0.5], noise: 0, seed: 9)
        let s = try DiffSpectrumCalculator.compute(delta: d, rows: 200, cols: 300, noiseFloor: 0, top: 8,
                                                   maxProbe: 256, tensor: "t")
        #expect(s.method == "dense-svd")
        #expect(s.rank == 3)
        #expect(abs(s.topSingularValues[2] - 0.5) < 1e-5)
        let z = try DiffSpectrumCalculator.compute(delta: [Float](repeating: 0, count: 600), rows: 20, cols: 30,
                                                   noiseFloor: 0, top: 8, maxProbe: 256, tensor: "t")
        #expect(z.rank == 0)
    }
}
