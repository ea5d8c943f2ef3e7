import Foundation
import PruneFormats

/// The `lost-bits` residual of F32, F16 and BF16 tensors: per element, only the bits of W₀ that
/// rounding W₀ + ΔW̄ destroyed, where it destroyed them.
///
/// Apply computes, with the fixed-order float64 delta d of each element, out = g(a) where
/// g(x) = enc(f32(dec(x) + d)) (dec/enc: the stored type ↔ f32, round to nearest even). Revert knows
/// out and d, so it knows the candidates: the bit patterns x with g(x) = out. g is monotone, so they
/// form one run of consecutive values in the order of the reals; revert finds it from
/// R = enc(f32(dec(out) − d)) by an exponential then binary search on g. Where the run has one value
/// (nothing was lost: the output binade is not coarser than W₀'s) nothing is stored; where it has
/// n > 1 values (about 2^k when the output gained k binade exponents), a's position in it is stored
/// with a truncated binary code of ⌊log₂n⌋ or ⌈log₂n⌉ bits. The few elements whose base is not a
/// candidate found this way (non-finite values, rounding corner cases) are stored whole as
/// exceptions. So the residual is within a few bits per affected element of the information bound
/// Σ max(0, e(out) − e(W₀)).
///
/// Layout (prune-sidecar(5)): varint segment rows, varint segment count, per segment the varint
/// number of bits it holds; the segments' bits concatenated (MSB first, no padding between them,
/// the last byte zero-padded); varint exception count; per exception the varint gap to the
/// previous exception's element index (the first: its index) and the base element, little-endian.
/// Segments are runs of whole rows so that both sides work on them in parallel; the bytes never
/// depend on the thread count.
package enum LostBits {
    package static let codec = "lost-bits"

    /// Elements per segment (about; whole rows).
    static let segmentElements = 1 << 18

    package static func segmentRows(cols: Int) -> Int { max(1, segmentElements / max(1, cols)) }

    package static func supports(_ type: TensorType) -> Bool { format(type) != nil }

    static func format(_ type: TensorType) -> LostBitsFormat? {
        switch type {
        case .safetensors(.f32), .ggml(.f32): return .f32
        case .safetensors(.f16), .ggml(.f16): return .f16
        case .safetensors(.bf16), .ggml(.bf16): return .bf16
        default: return nil
        }
    }

    /// Apply: out = g(base) for every element, and the residual that gives base back from out.
    package static func apply(base: UnsafeRawBufferPointer, type: TensorType, delta: FactoredDelta,
                              threads: Int, timing: LostBitsTiming? = nil) throws -> (out: [UInt8], residual: [UInt8]) {
        guard let f = format(type) else { throw SidecarError.builder("lost-bits: unsupported type \(type)") }
        switch f {
        case .f32: return try run(F32Bits.self, base: base, delta: delta, threads: threads, timing: timing)
        case .f16: return try run(F16Bits.self, base: base, delta: delta, threads: threads, timing: timing)
        case .bf16: return try run(BF16Bits.self, base: base, delta: delta, threads: threads, timing: timing)
        }
    }

    /// Revert: the base bytes from the edited bytes, the restrained delta and the residual.
    package static func revert(edited: UnsafeRawBufferPointer, type: TensorType, delta: FactoredDelta,
                               residual: [UInt8], threads: Int, path: String, tensor: String) throws -> [UInt8] {
        guard let f = format(type) else {
            throw SidecarError.residual(path: path, tensor: tensor, reason: "codec \(codec) does not apply to type \(type)")
        }
        do {
            switch f {
            case .f32: return try undo(F32Bits.self, edited: edited, delta: delta, residual: residual, threads: threads)
            case .f16: return try undo(F16Bits.self, edited: edited, delta: delta, residual: residual, threads: threads)
            case .bf16: return try undo(BF16Bits.self, edited: edited, delta: delta, residual: residual, threads: threads)
            }
        } catch let e as ResidualFailure {
            throw SidecarError.residual(path: path, tensor: tensor, reason: "lost-bits: " + e.reason)
        }
    }

    /// Only out = g(base) (replay), with the same arithmetic as `apply`.
    package static func materialise(base: UnsafeRawBufferPointer, type: TensorType, delta: FactoredDelta,
                                    threads: Int) throws -> [UInt8]? {
        guard let f = format(type) else { return nil }
        switch f {
        case .f32: return forward(F32Bits.self, base: base, delta: delta, threads: threads)
        case .f16: return forward(F16Bits.self, base: base, delta: delta, threads: threads)
        case .bf16: return forward(BF16Bits.self, base: base, delta: delta, threads: threads)
        }
    }

    // MARK: - the candidate run

    @inline(__always)
    static func g<E: LostBitsElement>(_: E.Type, _ x: UInt32, _ d: Double) -> UInt32 {
        E.encode(Float(Double(E.decode(x)) + d))
    }

    @inline(__always)
    static func back<E: LostBitsElement>(_: E.Type, _ o: UInt32, _ d: Double) -> UInt32 {
        E.encode(Float(Double(E.decode(o)) - d))
    }

    /// Order-preserving key of a bit pattern (−0 just below +0). Branch-free: weights have random
    /// signs, and a branch on the sign would mispredict half the time (the same for the other
    /// selections below).
    @inline(__always)
    static func key<E: LostBitsElement>(_: E.Type, _ x: UInt32) -> Int64 {
        let mag = Int64(x & E.magnitudeMask)
        let negative: Int64 = x & E.signBit != 0 ? -1 : 0
        return mag ^ negative                                   // −1 − mag where negative
    }

    @inline(__always)
    static func unkey<E: LostBitsElement>(_: E.Type, _ k: Int64) -> UInt32 {
        let negative = k >> 63                                  // 0 or −1
        return UInt32(truncatingIfNeeded: k ^ negative) | (E.signBit & UInt32(truncatingIfNeeded: negative))
    }

    @inline(__always)
    static func finite<E: LostBitsElement>(_: E.Type, _ x: UInt32) -> Bool { x & E.magnitudeMask <= E.maxFinite }

    /// R, the first key of the candidate run and its length (1: R alone, nothing stored).
    ///
    /// The run is computed, not searched: out's rounding interval in the stored type is
    /// [v − s₋/2, v + s₊/2] (v = dec(out), s₋ and s₊ the spacings to its neighbours); the candidates
    /// are the values x with dec(x) in that interval shifted by −d. Encoder and decoder evaluate the
    /// same function of (out, d), so the residual is exact whatever it returns; a tie at an edge may
    /// only cost an extra value in the run or an exception.
    ///
    /// Three evaluations give the same result, the first that answers is taken: `nothingLost` (out
    /// and R in one binade, no tie near: the run is R alone), `runInBinade` (the shifted interval
    /// lies in R's binade) and `generalRun` for everything else. Format 2's residuals are defined by
    /// `generalRun`; LostBitsTests check that the shortcuts agree with it, and
    /// Format2CompatibilityTests that recorded residuals are written again byte for byte.
    @inline(__always)
    static func candidates<E: LostBitsElement>(_ e: E.Type, out o: UInt32, d: Double) -> (r: UInt32, lo: Int64, count: UInt64) {
        let t = Double(E.decode(o)) - d
        let r = E.encode(Float(t))
        if nothingLost(e, out: o, r: r, t: t) { return (r, key(e, r), 1) }
        if let run = runInBinade(e, out: o, r: r, d: d) { return run }
        return generalRun(e, out: o, r: r, d: d)
    }

    /// True where the run is R alone because out and R share a binade and t = v − d is not near a
    /// rounding tie: out and R normal with non-zero significands (so every spacing around them is
    /// s), the same exponent, and |t − R| below s/2 by a margin far above the doubles' rounding
    /// of L and H. Then L < R < H, R − s < L and H < R + s: `runInBinade` would find (R, key(R), 1).
    @inline(__always)
    static func nothingLost<E: LostBitsElement>(_ e: E.Type, out o: UInt32, r: UInt32, t: Double) -> Bool {
        let eo = (o & E.magnitudeMask) >> E.mantissaBits
        let er = (r & E.magnitudeMask) >> E.mantissaBits
        guard eo == er, eo &- 1 < E.exponentAllOnes - 2, o & E.mantissaMask != 0, r & E.mantissaMask != 0 else { return false }
        let s = powerOfTwo(Int(eo) - E.exponentBias - E.mantissaBits)
        return abs(t - Double(E.decode(r))) < s * (0.5 - 0x1p-20)
    }

    /// The run when out and R are normal (exponent field 1 ... max − 2) and the interval
    /// [L, H] = [v − s₋/2 − d, v + s₊/2 − d] lies in R's binade (the closed range from 2^e to
    /// 2^(e+1) in magnitude, R's sign): there the values are R + j·s_R with keys key(R) + j, so
    /// the smallest key at or above L and the largest at or below H are key(R) + ⌈(L − R)/s_R⌉ and
    /// key(R) + ⌊(H − R)/s_R⌋, both exact (L − R is exact by Sterbenz, s_R a power of two). L and H
    /// are the same doubles `generalRun` computes, so the results are the same. nil: not this case.
    @inline(__always)
    static func runInBinade<E: LostBitsElement>(_ e: E.Type, out o: UInt32, r: UInt32, d: Double) -> (r: UInt32, lo: Int64, count: UInt64)? {
        let eo = (o & E.magnitudeMask) >> E.mantissaBits
        let er = (r & E.magnitudeMask) >> E.mantissaBits
        let normal = E.exponentAllOnes - 2
        guard eo &- 1 < normal, er &- 1 < normal else { return nil }
        // out's spacings: s away from zero; toward zero s/2 at a binade's bottom (above the lowest).
        let so = powerOfTwo(Int(eo) - E.exponentBias - E.mantissaBits)
        let towardZero = o & E.mantissaMask == 0 && eo > 1 ? so / 2 : so
        let outNegative = o & E.signBit != 0
        let below = outNegative ? so : towardZero
        let above = outNegative ? towardZero : so
        let v = Double(E.decode(o))
        let lower = v - below / 2 - d, upper = v + above / 2 - d
        // R's binade, signed.
        let bottom = powerOfTwo(Int(er) - E.exponentBias)
        let rNegative = r & E.signBit != 0
        let lowEnd = rNegative ? -2 * bottom : bottom
        let highEnd = rNegative ? -bottom : 2 * bottom
        guard lower >= lowEnd, upper <= highEnd else { return nil }
        let rv = Double(E.decode(r))
        let perStep = powerOfTwo(E.exponentBias + E.mantissaBits - Int(er))        // 1 / s_R
        let kr = key(e, r)
        let lo = kr + ceilInt((lower - rv) * perStep)
        let hi = kr + floorInt((upper - rv) * perStep)
        guard lo <= hi else { return (r, kr, 1) }
        return (r, lo, UInt64(hi - lo + 1))
    }

    /// 2^k as a double (k within the normal range).
    @inline(__always)
    static func powerOfTwo(_ k: Int) -> Double { Double(bitPattern: UInt64(1023 + k) << 52) }

    /// ⌈x⌉ and ⌊x⌋ for |x| < 2^62 without a libm call.
    @inline(__always)
    static func ceilInt(_ x: Double) -> Int64 {
        let t = Int64(x)
        return t &+ (Double(t) < x ? 1 : 0)
    }

    @inline(__always)
    static func floorInt(_ x: Double) -> Int64 {
        let t = Int64(x)
        return t &- (Double(t) > x ? 1 : 0)
    }

    /// The run for any out and d (the definition).
    @inline(never)
    static func generalRun<E: LostBitsElement>(_ e: E.Type, out o: UInt32, r: UInt32, d: Double) -> (r: UInt32, lo: Int64, count: UInt64) {
        let single = (r, key(e, r), UInt64(1))
        guard finite(e, o), finite(e, r) else { return single }
        let ko = key(e, o)
        let v = Double(E.decode(o))
        var kp = ko - 1, kn = ko + 1
        kp &-= Double(E.decode(unkey(e, kp))) == v ? 1 : 0      // +0 below −0
        kn &+= Double(E.decode(unkey(e, kn))) == v ? 1 : 0      // −0 below +0
        var below = v - Double(E.decode(unkey(e, kp)))
        var above = Double(E.decode(unkey(e, kn))) - v
        if !below.isFinite { below = above }                    // ±largest finite value
        if !above.isFinite { above = below }
        guard below.isFinite, above.isFinite else { return single }
        let lo = ceilKey(e, v - below / 2 - d), hi = floorKey(e, v + above / 2 - d)
        guard lo <= hi else { return single }
        return (r, lo, UInt64(hi - lo + 1))
    }

    /// The smallest finite key whose value is ≥ x (about: one rounding step of slack).
    @inline(__always)
    static func ceilKey<E: LostBitsElement>(_ e: E.Type, _ x: Double) -> Int64 {
        let maxKey = Int64(E.maxFinite), minKey = -1 - Int64(E.maxFinite)
        guard x.isFinite else { return x > 0 ? maxKey + 1 : minKey }
        var k = min(max(key(e, E.encode(Float(x))), minKey), maxKey)
        k &+= Double(E.decode(unkey(e, k))) < x ? 1 : 0
        return k
    }

    /// The largest finite key whose value is ≤ x (about).
    @inline(__always)
    static func floorKey<E: LostBitsElement>(_ e: E.Type, _ x: Double) -> Int64 {
        let maxKey = Int64(E.maxFinite), minKey = -1 - Int64(E.maxFinite)
        guard x.isFinite else { return x > 0 ? maxKey : minKey - 1 }
        var k = min(max(key(e, E.encode(Float(x))), minKey), maxKey)
        k &-= Double(E.decode(unkey(e, k))) > x ? 1 : 0
        return k
    }

    // MARK: - apply / revert over chunks of rows

    private struct Chunk {
        var bits = BitWriter()
        var exceptions: [(index: Int, value: UInt32)] = []
        var materialise = 0.0
        var residual = 0.0
    }

    private static func run<E: LostBitsElement>(_ e: E.Type, base: UnsafeRawBufferPointer, delta: FactoredDelta,
                                                threads: Int, timing: LostBitsTiming?) throws -> (out: [UInt8], residual: [UInt8]) {
        let rows = delta.rows, cols = delta.cols
        let count = rows * cols
        guard base.count == count * E.width else {
            throw SidecarError.builder("lost-bits: \(base.count) bytes for \(rows)x\(cols) elements")
        }
        let segRows = segmentRows(cols: cols)
        let segments = (rows + segRows - 1) / segRows
        var out = [UInt8](repeating: 0, count: base.count)
        var chunks = [Chunk](repeating: Chunk(), count: segments)
        var fillCPU = 0.0
        if delta.rank == 0 {
            out.withUnsafeMutableBytes { o in o.copyMemory(from: base) }
        } else {
            out.withUnsafeMutableBytes { o in
                chunks.withUnsafeMutableBufferPointer { cs in
                    let p = Pointers(base: base, out: o, chunks: cs)
                    fillCPU = delta.forEachChunk(chunkRows: segRows, threads: threads) { chunk, range, d in
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        let first = range.lowerBound * cols
                        let n = range.count * cols
                        // materialise: out = g(a)
                        for x in 0..<n {
                            let a = E.load(p.base, first + x)
                            E.store(p.out, first + x, g(e, a, d[x]))
                        }
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        // residual: a's place in its candidate run
                        var c = Chunk()
                        for x in 0..<n {
                            let a = E.load(p.base, first + x)
                            let o = E.load(UnsafeRawBufferPointer(p.out), first + x)
                            let (r, lo, cnt) = candidates(e, out: o, d: d[x])
                            // A run of one value writes no bits (truncated binary of 0..<1), so
                            // both cases take one path; a is an exception where it is outside a
                            // longer run, or is not R where the run is R alone.
                            let ka = key(e, a)
                            let offset = UInt64(bitPattern: ka &- lo)
                            let inRun = finite(e, a) && ka >= lo && offset < cnt
                            c.bits.writeTruncated(inRun ? offset : 0, count: cnt)
                            if cnt > 1 ? !inRun : r != a { c.exceptions.append((first + x, a)) }
                        }
                        let t2 = DispatchTime.now().uptimeNanoseconds
                        c.materialise = Double(t1 - t0) / 1e9
                        c.residual = Double(t2 - t1) / 1e9
                        p.chunks[chunk] = c
                    }
                }
            }
        }
        let t3 = DispatchTime.now().uptimeNanoseconds
        var blob = ByteWriter()
        blob.varint(UInt64(segRows))
        blob.varint(UInt64(segments))
        for c in chunks { blob.varint(UInt64(c.bits.bitCount)) }
        var all = BitWriter()
        for c in chunks { all.append(c.bits) }
        blob.bytes(all.finish())
        let exceptions = chunks.flatMap(\.exceptions)
        blob.varint(UInt64(exceptions.count))
        var previous = 0
        for (i, x) in exceptions.enumerated() {
            blob.varint(UInt64(i == 0 ? x.index : x.index - previous))
            previous = x.index
            for b in 0..<E.width { blob.byte(UInt8(truncatingIfNeeded: x.value >> (8 * UInt32(b)))) }
        }
        if let timing {
            // Materialising is computing ΔW̄ (the fixed-order kernel) and adding it.
            timing.materialiseCPU += fillCPU + chunks.reduce(0) { $0 + $1.materialise }
            timing.residualCPU += chunks.reduce(0) { $0 + $1.residual }
            timing.packing += Double(DispatchTime.now().uptimeNanoseconds - t3) / 1e9
        }
        return (out, blob.data)
    }

    private static func forward<E: LostBitsElement>(_ e: E.Type, base: UnsafeRawBufferPointer, delta: FactoredDelta,
                                                    threads: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: base.count)
        if delta.rank == 0 {
            out.withUnsafeMutableBytes { o in o.copyMemory(from: base) }
            return out
        }
        let cols = delta.cols
        out.withUnsafeMutableBytes { o in
            let p = Pointers(base: base, out: o, chunks: UnsafeMutableBufferPointer(start: nil, count: 0))
            delta.forEachChunk(chunkRows: segmentRows(cols: cols), threads: threads) { _, range, d in
                let first = range.lowerBound * cols
                for x in 0..<(range.count * cols) { E.store(p.out, first + x, g(e, E.load(p.base, first + x), d[x])) }
            }
        }
        return out
    }

    private static func undo<E: LostBitsElement>(_ e: E.Type, edited: UnsafeRawBufferPointer, delta: FactoredDelta,
                                                 residual: [UInt8], threads: Int) throws -> [UInt8] {
        let rows = delta.rows, cols = delta.cols
        let count = rows * cols
        guard edited.count == count * E.width else { throw ResidualFailure("\(edited.count) bytes for \(rows)x\(cols) elements") }
        var reader = ByteReader(residual)
        let segRows = try reader.varint()
        let segments = try reader.varint()
        let expectedRows = segmentRows(cols: cols)
        guard segRows == UInt64(expectedRows), segments == UInt64((rows + expectedRows - 1) / expectedRows) else {
            throw ResidualFailure("segment table does not fit a \(rows)x\(cols) tensor")
        }
        var starts: [Int] = []
        var total = 0
        for _ in 0..<Int(segments) {
            let n = try reader.varint()
            guard n <= UInt64(Int.max / 2), total <= Int.max / 2 - Int(n) else { throw ResidualFailure("segment length overflows") }
            starts.append(total)
            total += Int(n)
        }
        starts.append(total)
        let segmentStarts = starts
        let bitBytes = (total + 7) / 8
        let bitStart = reader.position
        guard residual.count - bitStart >= bitBytes else { throw ResidualFailure("truncated bit stream") }
        reader.position += bitBytes
        let exceptionCount = try reader.varint()
        guard exceptionCount <= UInt64(count) else { throw ResidualFailure("more exceptions than elements") }
        var exceptions: [(Int, UInt32)] = []
        var at = 0
        for i in 0..<Int(exceptionCount) {
            let gap = try reader.varint()
            guard gap <= UInt64(count) else { throw ResidualFailure("exception index out of range") }
            at = i == 0 ? Int(gap) : at + Int(gap)
            guard at < count, i == 0 || gap > 0 else { throw ResidualFailure("exception index out of range") }
            var v: UInt32 = 0
            for b in 0..<E.width { v |= UInt32(try reader.byte()) << (8 * UInt32(b)) }
            exceptions.append((at, v))
        }
        guard reader.position == residual.count else { throw ResidualFailure("trailing bytes") }
        var out = [UInt8](repeating: 0, count: edited.count)
        if delta.rank == 0 {
            out.withUnsafeMutableBytes { o in o.copyMemory(from: edited) }
            guard total == 0 else { throw ResidualFailure("bits stored for a zero delta") }
        } else {
            var failed = [Bool](repeating: false, count: Int(segments))
            try residual.withUnsafeBytes { raw in
                let bits = UnsafeRawBufferPointer(rebasing: raw[bitStart..<(bitStart + bitBytes)])
                out.withUnsafeMutableBytes { o in
                    failed.withUnsafeMutableBufferPointer { fl in
                        let p = UndoPointers(edited: edited, out: o, bits: bits, failed: fl)
                        delta.forEachChunk(chunkRows: segRows == 0 ? 1 : Int(segRows), threads: threads) { chunk, range, d in
                            var r = BitReader(p.bits, from: segmentStarts[chunk], to: segmentStarts[chunk + 1])
                            let first = range.lowerBound * cols
                            for x in 0..<(range.count * cols) {
                                let o = E.load(p.edited, first + x)
                                let (rb, lo, cnt) = candidates(e, out: o, d: d[x])
                                var a = rb
                                if cnt > 1 {
                                    guard let idx = r.readTruncated(count: cnt) else { p.failed[chunk] = true; return }
                                    a = unkey(e, lo + Int64(idx))
                                }
                                E.store(p.out, first + x, a)
                            }
                            if r.position != segmentStarts[chunk + 1] { p.failed[chunk] = true }
                        }
                    }
                }
                if failed.contains(true) { throw ResidualFailure("bit stream does not match the tensor") }
            }
        }
        out.withUnsafeMutableBytes { o in
            for (i, v) in exceptions { E.store(o, i, v) }
        }
        return out
    }

    private struct Pointers: @unchecked Sendable {
        let base: UnsafeRawBufferPointer
        let out: UnsafeMutableRawBufferPointer
        let chunks: UnsafeMutableBufferPointer<Chunk>
    }

    private struct UndoPointers: @unchecked Sendable {
        let edited: UnsafeRawBufferPointer
        let out: UnsafeMutableRawBufferPointer
        let bits: UnsafeRawBufferPointer
        let failed: UnsafeMutableBufferPointer<Bool>
    }
}
