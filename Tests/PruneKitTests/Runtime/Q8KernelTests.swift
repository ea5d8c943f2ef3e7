import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// The 8-bit-activation kernels (`Q8Kernels`, C in CPruneKernels/q8_kernels.c): the quantizer writes
/// the documented blocks bit for bit; the AVX-512, AVX2 and portable paths give the same bits for every type
/// and row count; each output is within the bound derived below of an independent f64 reference
/// (TensorCodec's decoded weights times the dequantized activations); the same for the tiled product
/// of many rows (the panels, `q8_tiles.c`); `Linear.forward` with `.q8` does not depend on the
/// threads; and the default stays `.f32`, whose outputs do not change.
@Suite struct Q8KernelTests {
    static let types: [GGMLType] = [.q4_K, .q6_K, .q8_0, .q5_0, .q4_0, .q4_1, .q5_1]
    static let rowCounts = [1, 3, 6, 7, 64]

    /// γₙ = n·u/(1 − n·u) with u = 2⁻²⁴ (Higham, §3.1).
    static func gamma(_ n: Int) -> Double {
        let nu = Double(n) * Double(ArithmeticTolerance.unitRoundoff)
        return nu / (1 - nu)
    }

    /// Matrices `rows × cols` of `type`: prune's encoding of seeded values of mixed magnitudes, and
    /// seeded random bytes (every nibble, scale and min pattern) with finite f16 scales.
    static func matrices(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) throws -> [(label: String, bytes: [UInt8])] {
        var rng = SplitMix(seed: seed)
        let values = (0..<(rows * cols)).map { i in rng.nextFloat() * Float(1 + (i / 64) % 7) }
        let encoded = try TensorCodec.encode(values, as: .ggml(type))
        var random = (0..<encoded.count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // The f16 fields of each block: a finite value of either sign, magnitude 2⁻¹⁰ … 2⁻³.
        let blockBytes = encoded.count / (rows * cols / type.blockSize)
        let halves: [Int] = switch type {
        case .q4_K, .q4_1, .q5_1: [0, 2]
        case .q6_K: [208]
        default: [0]
        }
        for b in stride(from: 0, to: random.count, by: blockBytes) {
            for h in halves {
                let bits = UInt16(truncatingIfNeeded: rng.next()) & 0x83ff | UInt16(5 + rng.next() % 8) << 10
                random[b + h] = UInt8(bits & 0xff)
                random[b + h + 1] = UInt8(bits >> 8)
            }
        }
        return [("encoded", encoded), ("random bytes", random)]
    }

    /// Activation rows with varied magnitudes, a zero block, and exact ties at the rounding.
    static func activations(rows m: Int, cols k: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix(seed: seed)
        var x = (0..<(m * k)).map { i in rng.nextFloat() * Float(1 << ((i / 32) % 5)) }
        for c in 0..<min(32, k) { x[c] = 0 }
        if m > 1, k >= 64 { x[k + 40] = 63.5; x[k + 41] = -127; x[k + 42] = 0.5 }
        return x
    }

    /// The documented quantization, written here independently: per block, d = amax / 127 and
    /// q = clamp(rint(x · (127 / amax)), −127, 127), all in f32 (amax ignores NaN; NaN → −127).
    static func quantize(_ x: ArraySlice<Float>) -> (d: Float, q: [Int8]) {
        let amax = x.reduce(Float(0)) { max($0, abs($1)) }
        let d = amax / 127, id: Float = amax != 0 ? 127 / amax : 0
        return (d, x.map { v in
            let r = (v * id).rounded(.toNearestOrEven)
            return r.isNaN ? -127 : Int8(max(-127, min(127, r)))
        })
    }

    func run(_ code: Int32, _ w: [UInt8], rows: Int, k: Int, x: [Float], m: Int, path: Q8Kernels.Path) -> [Float] {
        let xs = Q8Kernels.rowBytes(code, k: k)
        var xq = [UInt8](repeating: 0, count: m * xs)
        var y = [Float](repeating: .nan, count: m * rows)
        x.withUnsafeBufferPointer { xp in
            xq.withUnsafeMutableBytes { Q8Kernels.quantize(code, xp.baseAddress!, ldx: k, rows: m, k: k, into: $0.baseAddress!) }
        }
        w.withUnsafeBytes { wp in
            xq.withUnsafeBytes { xqp in
                y.withUnsafeMutableBufferPointer {
                    Q8Kernels.gemm(code, wp.baseAddress!, rowBytes: w.count / rows, rows: rows, k: k, xq: xqp.baseAddress!, m: m,
                                   y: $0.baseAddress!, ldy: rows, path: path)
                }
            }
        }
        return y
    }

    /// The tiled product: the rows quantized, widened into activation panel rows, the weight rows
    /// decoded into one panel, then `gemmPanel` on `path`.
    func runTiled(_ code: Int32, _ w: [UInt8], rows: Int, k: Int, x: [Float], m: Int, path: Q8Kernels.Path) -> [Float] {
        let xs = Q8Kernels.rowBytes(code, k: k), xr = Q8Kernels.xpanelRowBytes(code, k: k)
        var xq = [UInt8](repeating: 0, count: m * xs), xp = [UInt8](repeating: 0, count: m * xr)
        var panel = [UInt8](repeating: 0xa5, count: Q8Kernels.panelBytes(code, rows: rows, k: k))
        var y = [Float](repeating: .nan, count: m * rows)
        x.withUnsafeBufferPointer { xptr in
            xq.withUnsafeMutableBytes { Q8Kernels.quantize(code, xptr.baseAddress!, ldx: k, rows: m, k: k, into: $0.baseAddress!) }
        }
        xq.withUnsafeBytes { q in xp.withUnsafeMutableBytes { Q8Kernels.xpanel(code, xq: q.baseAddress!, rows: m, k: k, into: $0.baseAddress!) } }
        w.withUnsafeBytes { wp in
            panel.withUnsafeMutableBytes { Q8Kernels.panel(code, wp.baseAddress!, rowBytes: w.count / rows, rows: rows, k: k, into: $0.baseAddress!) }
        }
        panel.withUnsafeBytes { pp in
            xp.withUnsafeBytes { xpp in
                y.withUnsafeMutableBufferPointer {
                    Q8Kernels.gemmPanel(code, panel: pp.baseAddress!, rows: rows, k: k, xp: xpp.baseAddress!, m: m,
                                        y: $0.baseAddress!, ldy: rows, path: path)
                }
            }
        }
        return y
    }

    /// The tiled product (many rows): the three paths give the same bits for 45 weight rows (a
    /// partial second group of 16 and a partial pair of groups) and 1, 5, 13 and 70 activation rows
    /// (every remainder of the register blocks); each row alone gives the bits it gets among m; and
    /// each output is within the bound of the f64 reference. The bound: per block the integer sum is
    /// exact, then fl(isum) and fl(d_w·d_x) are one rounding each and the fmaf one more, the blocks
    /// added in sequence (two steps a block for Q4_K: its mins): γ_{2·n_b + 2}·M, M as below; the
    /// reference's own decode and sum add γ₄·M and k·2⁻⁵²·M.
    @Test(arguments: Q8KernelTests.types)
    func tiledPathsAgreeAndMatchTheReference(type: GGMLType) throws {
        let code = try #require(StoredKernels.code(.ggml(type)))
        let bs = try #require(Q8Kernels.blockSize(code))
        let rows = 45, k = bs == 256 ? 512 : 544
        for (label, w) in try Self.matrices(type, rows: rows, cols: k, seed: UInt64(type.rawValue) + 40) {
            let decoded = try w.withUnsafeBytes { try TensorCodec.decode($0, as: .ggml(type), count: rows * k) }
            let parts = Self.parts(type, w, rows: rows, k: k)
            for m in [1, 5, 13, 70] {
                let x = Self.activations(rows: m, cols: k, seed: UInt64(m) + 9)
                let portable = runTiled(code, w, rows: rows, k: k, x: x, m: m, path: .portable)
                for path in Q8Kernels.usablePaths where path != .portable {
                    let simd = runTiled(code, w, rows: rows, k: k, x: x, m: m, path: path)
                    let first = simd.indices.first { simd[$0].bitPattern != portable[$0].bitPattern }
                    #expect(first == nil, "\(type) \(label) m=\(m): tiled \(path) and portable differ at output \(first ?? 0)")
                }
                let last = runTiled(code, w, rows: rows, k: k, x: Array(x[((m - 1) * k)...]), m: 1, path: Q8Kernels.path)
                #expect(zip(last, portable[((m - 1) * rows)...]).allSatisfy { $0.bitPattern == $1.bitPattern },
                        "\(type) \(label) m=\(m): the last row alone differs")
                let blocks = k / bs
                let factor = Self.gamma(2 * blocks + 2) + Self.gamma(4) + Double(k) * 0x1p-52
                Self.expectWithinBound(portable, decoded: decoded, parts: parts, x: x, rows: rows, k: k, m: m, blockSize: bs,
                                       factor: factor, "\(type) \(label) m=\(m) tiled")
            }
        }
    }

    /// The quantizer writes {f32 d, i8 q[B]} (+ i16 sums of 16 for K-quants) as documented.
    @Test(arguments: Q8KernelTests.types)
    func quantizerWritesTheDocumentedBlocks(type: GGMLType) throws {
        let code = try #require(StoredKernels.code(.ggml(type)))
        let bs = try #require(Q8Kernels.blockSize(code))
        let k = 512, m = 3
        var x = Self.activations(rows: m, cols: k, seed: 5)
        // Non-finite values: a NaN (ignored by the maximum, quantized to −127) and an infinity
        // (amax = ∞, so 127/amax = 0: the infinity itself gives ∞ · 0 = NaN → −127, the others 0).
        x[k + 300] = .nan
        x[2 * k + 5] = .infinity
        let xs = Q8Kernels.rowBytes(code, k: k)
        var xq = [UInt8](repeating: 0, count: m * xs)
        x.withUnsafeBufferPointer { xp in
            xq.withUnsafeMutableBytes { Q8Kernels.quantize(code, xp.baseAddress!, ldx: k, rows: m, k: k, into: $0.baseAddress!, path: .portable) }
        }
        // Every path writes the portable path's bytes.
        for path in Q8Kernels.usablePaths where path != .portable {
            var other = [UInt8](repeating: 0, count: m * xs)
            x.withUnsafeBufferPointer { xp in
                other.withUnsafeMutableBytes { Q8Kernels.quantize(code, xp.baseAddress!, ldx: k, rows: m, k: k, into: $0.baseAddress!, path: path) }
            }
            let first = other.indices.first { other[$0] != xq[$0] }
            #expect(first == nil, "\(type): the \(path) quantizer differs at byte \(first ?? 0)")
        }
        let blockBytes = bs == 256 ? 4 + 256 + 32 : 4 + 32
        #expect(xs == k / bs * blockBytes)
        for i in 0..<m {
            for b in 0..<(k / bs) {
                let (d, q) = Self.quantize(x[(i * k + b * bs)..<(i * k + (b + 1) * bs)])
                let o = i * xs + b * blockBytes
                let gotD = xq.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Float.self) }
                #expect(gotD.bitPattern == d.bitPattern, "\(type) row \(i) block \(b): d")
                let gotQ = (0..<bs).map { Int8(bitPattern: xq[o + 4 + $0]) }
                #expect(gotQ == q, "\(type) row \(i) block \(b): q")
                if bs == 256 {
                    for g in 0..<16 {
                        let s = xq.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o + 4 + 256 + 2 * g, as: Int16.self) }
                        #expect(Int(s) == q[(16 * g)..<(16 * g + 16)].reduce(0) { $0 + Int($1) }, "\(type) row \(i) block \(b): sum \(g)")
                    }
                }
            }
        }
    }

    /// Both paths give the same bits, for 1, 3, 6, 7 and 64 activation rows and an odd number of
    /// weight rows; and each output is within the derived bound of the f64 reference.
    @Test(arguments: Q8KernelTests.types)
    func pathsAgreeAndMatchTheReference(type: GGMLType) throws {
        let code = try #require(StoredKernels.code(.ggml(type)))
        let bs = try #require(Q8Kernels.blockSize(code))
        // An odd number of 32-value blocks (the last block of a pair alone).
        let rows = 13, k = bs == 256 ? 512 : 544
        for (label, w) in try Self.matrices(type, rows: rows, cols: k, seed: UInt64(type.rawValue)) {
            let decoded = try w.withUnsafeBytes { try TensorCodec.decode($0, as: .ggml(type), count: rows * k) }
            let parts = Self.parts(type, w, rows: rows, k: k)
            for m in Self.rowCounts {
                let x = Self.activations(rows: m, cols: k, seed: UInt64(m))
                let portable = run(code, w, rows: rows, k: k, x: x, m: m, path: .portable)
                for path in Q8Kernels.usablePaths where path != .portable {
                    let simd = run(code, w, rows: rows, k: k, x: x, m: m, path: path)
                    let first = simd.indices.first { simd[$0].bitPattern != portable[$0].bitPattern }
                    #expect(first == nil, "\(type) \(label) m=\(m): \(path) and portable differ at output \(first ?? 0)")
                }
                // One activation row alone gives the bits it gets among m.
                let last = run(code, w, rows: rows, k: k, x: Array(x[((m - 1) * k)...]), m: 1, path: Q8Kernels.path)
                #expect(zip(last, portable[((m - 1) * rows)...]).allSatisfy { $0.bitPattern == $1.bitPattern },
                        "\(type) \(label) m=\(m): the last row alone differs")
                // The bound. The kernel sums each block's integer products exactly, then per block
                // adds dd · lane into an f32 lane with one fmaf, dd = fl(d_w · d_x) and fl(lane) each
                // within one rounding: a term d_w·d_x·lane·(1 + θ₂), accumulated over the n_b blocks of a
                // lane (γ_{n_b}), then a tree of depth 3 (γ₃), and for Q4_K one more subtraction of the
                // mins' sum: γ_{n_b + 6}·M with M = Σ_c (|d·sc·q_c| + |dmin·mn_c|)·|x̂_c| (the parts
                // before any cancellation; x̂ the dequantized activations). The reference uses
                // TensorCodec's f32 decode, within γ₄·(|d·sc·q| + |dmin·mn|) of the exact weight
                // (d·sc, dmin·mn, the product and the difference each rounded once), and its f64
                // sum adds k·2⁻⁵² relative.
                let blocks = k / bs
                let factor = Self.gamma(blocks + 6) + Self.gamma(4) + Double(k) * 0x1p-52
                Self.expectWithinBound(portable, decoded: decoded, parts: parts, x: x, rows: rows, k: k, m: m, blockSize: bs,
                                       factor: factor, "\(type) \(label) m=\(m)")
            }
        }
    }

    /// Each output y[i, r] within factor·M of the f64 reference Σ_c w_c·x̂_c (w: TensorCodec's
    /// decode; x̂: the activations quantized as documented, dequantized; M = Σ_c parts_c·|x̂_c|).
    static func expectWithinBound(_ y: [Float], decoded: [Float], parts: [Double], x: [Float], rows: Int, k: Int, m: Int,
                                  blockSize bs: Int, factor: Double, _ label: String) {
        for i in 0..<m {
            var xhat = [Double](repeating: 0, count: k)
            for b in 0..<(k / bs) {
                let (d, q) = quantize(x[(i * k + b * bs)..<(i * k + (b + 1) * bs)])
                for c in 0..<bs { xhat[b * bs + c] = Double(d) * Double(q[c]) }
            }
            for r in 0..<rows {
                var dot = 0.0, magnitude = 0.0
                for c in 0..<k {
                    dot += Double(decoded[r * k + c]) * xhat[c]
                    magnitude += parts[r * k + c] * abs(xhat[c])
                }
                let err = abs(Double(y[i * rows + r]) - dot)
                #expect(err <= factor * magnitude, "\(label) row \(r) act \(i): |y − ref| = \(err) > \(factor * magnitude)")
            }
        }
    }

    /// |d·sc·q_c| + |dmin·mn_c| for Q4_K and |d·u_c| + |m| for Q4_1 and Q5_1 (read here from the
    /// block layout, in f64), |w_c| (1 + γ₂) for the types with one scale (their decoded value is the
    /// exact one within two roundings).
    static func parts(_ type: GGMLType, _ w: [UInt8], rows: Int, k: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * k)
        let rowBytes = w.count / rows
        func half(_ o: Int) -> Double { Double(Float(Float16(bitPattern: UInt16(w[o]) | UInt16(w[o + 1]) << 8))) }
        if type == .q4_K {
            for r in 0..<rows {
                for sb in 0..<(k / 256) {
                    let b = r * rowBytes + 144 * sb
                    let d = half(b), dmin = half(b + 2)
                    let s = Array(w[(b + 4)..<(b + 16)])
                    for j in 0..<8 {
                        let sc = j < 4 ? Int(s[j] & 63) : Int(s[j + 4] & 0x0f) | Int(s[j - 4] >> 6) << 4
                        let mn = j < 4 ? Int(s[j + 4] & 63) : Int(s[j + 4] >> 4) | Int(s[j] >> 6) << 4
                        for l in 0..<32 {
                            let byte = w[b + 16 + 32 * (j / 2) + l]
                            let q = j % 2 == 0 ? Int(byte & 0x0f) : Int(byte >> 4)
                            out[r * k + 256 * sb + 32 * j + l] = abs(d * Double(sc * q)) + abs(dmin * Double(mn))
                        }
                    }
                }
            }
            return out
        }
        if type == .q4_1 || type == .q5_1 {
            let bytes = type == .q4_1 ? 20 : 24, qs = type == .q4_1 ? 4 : 8
            for r in 0..<rows {
                for blk in 0..<(k / 32) {
                    let b = r * rowBytes + bytes * blk
                    let d = half(b), m = half(b + 2)
                    let qh = type == .q5_1 ? (0..<4).reduce(UInt32(0)) { $0 | UInt32(w[b + 4 + $1]) << (8 * $1) } : 0
                    for c in 0..<32 {
                        let byte = w[b + qs + c % 16]
                        let u = Int(c < 16 ? byte & 0x0f : byte >> 4) | Int((qh >> UInt32(c)) & 1) << 4
                        out[r * k + 32 * blk + c] = abs(d * Double(u)) + abs(m)
                    }
                }
            }
            return out
        }
        let decoded = (try? w.withUnsafeBytes { try TensorCodec.decode($0, as: .ggml(type), count: rows * k) }) ?? []
        for (c, v) in decoded.enumerated() { out[c] = abs(Double(v)) * (1 + gamma(2)) }
        return out
    }

    /// `Linear.forward` with `.q8` on stored matrices: the same bits with 1 and 2 threads for few
    /// and many rows, exactly the kernels' output (the row kernels for few rows, the panels for many:
    /// 300 rows span three panels), and a workspace without a precision multiplies in f32.
    @Test(arguments: Q8KernelTests.types)
    func linearForwardIsThreadIndependent(type: GGMLType) throws {
        let code = try #require(StoredKernels.code(.ggml(type)))
        let rows = 300, k = 512
        let bytes = try Self.matrices(type, rows: rows, cols: k, seed: 77)[0].bytes
        let base = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        defer { base.deallocate() }
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        let w = WeightMatrix(name: "w", rows: rows, cols: k, storage: .encoded(UnsafeRawPointer(base), .ggml(type), rowBytes: bytes.count / rows),
                             logicalRow: nil, owner: nil)
        #expect(Workspace(threads: 1).activations == .f32)
        for m in Self.rowCounts + [40] {
            let x = Self.activations(rows: m, cols: k, seed: UInt64(100 + m))
            let one = Linear.forward(x, rows: m, weight: w, bias: nil, workspace: Workspace(threads: 1, activations: .q8))
            let two = Linear.forward(x, rows: m, weight: w, bias: nil, workspace: Workspace(threads: 2, activations: .q8))
            #expect(zip(one, two).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type) m=\(m): 1 and 2 threads differ")
            let f32 = Linear.forward(x, rows: m, weight: w, bias: nil, workspace: Workspace(threads: 1))
            let f32Explicit = Linear.forward(x, rows: m, weight: w, bias: nil, workspace: Workspace(threads: 2, activations: .f32))
            #expect(zip(f32, f32Explicit).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type) m=\(m): the f32 path moved")
            // Few rows: the row kernels; many rows (a prompt): the panels.
            let direct = Q8Kernels.forRows(m) ? run(code, bytes, rows: rows, k: k, x: x, m: m, path: Q8Kernels.path)
                : runTiled(code, bytes, rows: rows, k: k, x: x, m: m, path: Q8Kernels.path)
            #expect(zip(one, direct).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type) m=\(m): not the kernel's output")
            #expect(zip(f32, one).contains { $0.bitPattern != $1.bitPattern }, "\(type) m=\(m): .q8 gave the f32 bits")
        }
    }

    /// Models load with `.f32` unless asked, and the transformer keeps the setting.
    @Test func defaultIsF32() {
        #expect(LoadOptions().activations == .f32)
        #expect(LoadOptions(threads: 2, activations: .q8).activations == .q8)
        #expect(ActivationPrecision(rawValue: "q8") == .q8)
    }
}
