import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// The kernels on weights as stored (`StoredKernels`, C in CPruneKernels): the row decoder gives
/// TensorCodec's bits; the fused dequantize-and-multiply is within the rounding bound of its fixed
/// summation of the exact f64 dot of the decoded values; the AVX-512, AVX2 and portable paths (those
/// the CPU runs) give the same bits; `Linear.forward` and `Linear.backwardInput` on stored matrices
/// do not depend on the threads.
/// Blocks come from the fixtures' GGUFs (F16, Q8_0, Q4_K_M: Q4_K, Q6_K and their fallbacks) and from
/// prune's encoder for every type the kernels read.
@Suite struct StoredKernelTests {
    static let types: [GGMLType] = [.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// The paths this CPU runs.
    static var paths: [StoredKernels.Path] { StoredKernels.usablePaths }

    /// γₙ = n·u/(1 − n·u) (Higham, Accuracy and Stability of Numerical Algorithms, §3.1), u = 2⁻²⁴.
    static func gamma(_ n: Int) -> Double {
        let nu = Double(n) * Double(ArithmeticTolerance.unitRoundoff)
        return nu / (1 - nu)
    }

    /// Stored rows `rows × cols` of `type` at `base`.
    struct Stored {
        let label: String
        let base: UnsafeRawPointer
        let type: TensorType
        let rows: Int
        let cols: Int
        let rowBytes: Int
    }

    /// Decoder and fused kernel on one matrix, every path, against TensorCodec and an f64 dot.
    func check(_ s: Stored, seed: UInt64) throws {
        let code = try #require(StoredKernels.code(s.type), "\(s.label): no kernel for \(s.type)")
        let n = s.rows * s.cols
        let expected = try TensorCodec.decode(UnsafeRawBufferPointer(start: s.base, count: s.rows * s.rowBytes), as: s.type, count: n)
        for path in Self.paths {
            var got = [Float](repeating: .nan, count: n)
            got.withUnsafeMutableBufferPointer {
                StoredKernels.decode(code, s.base, rowBytes: s.rowBytes, rows: s.rows, k: s.cols, into: $0.baseAddress!, ldd: s.cols, path: path)
            }
            let first = got.indices.first { got[$0].bitPattern != expected[$0].bitPattern }
            #expect(first == nil, "\(s.label) \(s.type) \(path): decoded value \(first ?? 0) differs from TensorCodec's")
        }
        // Three activation rows (a pair and a single one in the AVX2 kernel).
        var rng = SplitMix(seed: seed)
        let m = 3
        let x = (0..<(m * s.cols)).map { _ in rng.nextFloat() }
        var results: [[Float]] = []
        for path in Self.paths {
            var y = [Float](repeating: .nan, count: m * s.rows)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    StoredKernels.gemv(code, s.base, rowBytes: s.rowBytes, rows: s.rows, k: s.cols, x: xp.baseAddress!, ldx: s.cols,
                                       m: m, y: $0.baseAddress!, ldy: s.rows, path: path)
                }
            }
            results.append(y)
            // Value c goes to lane c mod 32: ⌈k/32⌉ fused multiply-adds per lane, then a tree of depth 5.
            let bound = Self.gamma((s.cols + 31) / 32 + 5)
            var worst = 0.0
            for i in 0..<m {
                for r in 0..<s.rows {
                    var dot = 0.0, magnitude = 0.0
                    for c in 0..<s.cols {
                        let p = Double(expected[r * s.cols + c]) * Double(x[i * s.cols + c])
                        dot += p
                        magnitude += abs(p)
                    }
                    // The f64 reference's own rounding: γ_k in f64.
                    let allowed = bound * magnitude + Double(s.cols) * 0x1p-52 * magnitude
                    let err = abs(Double(y[i * s.rows + r]) - dot)
                    #expect(err <= allowed, "\(s.label) \(s.type) \(path): row \(r), activation \(i): |y − dot| = \(err) > \(allowed)")
                    worst = max(worst, err / max(allowed, .leastNonzeroMagnitude))
                }
            }
            // One activation row alone gives the bits it gets within a batch.
            var single = [Float](repeating: .nan, count: s.rows)
            x.withUnsafeBufferPointer { xp in
                single.withUnsafeMutableBufferPointer {
                    StoredKernels.gemv(code, s.base, rowBytes: s.rowBytes, rows: s.rows, k: s.cols, x: xp.baseAddress! + 2 * s.cols,
                                       ldx: s.cols, m: 1, y: $0.baseAddress!, ldy: s.rows, path: path)
                }
            }
            #expect(zip(single, y[(2 * s.rows)...]).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "\(s.label) \(s.type) \(path): one activation row differs from the same row in a batch of 3")
        }
        for (path, y) in zip(Self.paths, results).dropFirst() {
            let first = y.indices.first { y[$0].bitPattern != results[0][$0].bitPattern }
            #expect(first == nil, "\(s.label) \(s.type): the \(path) and portable paths differ at output \(first ?? 0)")
        }
    }

    /// Every type, encoded by prune from seeded values (F16/BF16 rows end with a tail of k mod 32).
    @Test(arguments: StoredKernelTests.types)
    func encodedBlocks(type: GGMLType) throws {
        let rows = 19
        let cols = type.blockSize == 1 ? 512 + 45 : 512
        var rng = SplitMix(seed: UInt64(type.rawValue) + 100)
        // Values of mixed magnitudes, so that the scales and mins of the blocks vary.
        let values = (0..<(rows * cols)).map { i in rng.nextFloat() * Float(1 + (i / 64) % 7) }
        let bytes = try TensorCodec.encode(values, as: .ggml(type))
        try bytes.withUnsafeBytes { raw in
            try check(Stored(label: "encoded", base: raw.baseAddress!, type: .ggml(type), rows: rows, cols: cols,
                             rowBytes: bytes.count / rows), seed: UInt64(type.rawValue))
        }
    }

    /// Every matrix of the fixtures' GGUFs that the kernels read.
    @Test func fixtureBlocks() throws {
        var seen = Set<String>()
        for model in RuntimeTest.models {
            for file in ["model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"] {
                let lm = try LanguageModel.load(try RuntimeTest.fixture(model, file), options: LoadOptions(threads: 2, tokenizer: .skip))
                var done = Set<ObjectIdentifier>()
                for (index, w) in lm.weights.allMatrices.enumerated() where done.insert(ObjectIdentifier(w)).inserted {
                    guard case .encoded(let base, let type, let rowBytes) = w.storage, StoredKernels.code(type) != nil else { continue }
                    seen.insert(type.description)
                    try check(Stored(label: "\(model)/\(file) \(w.name)", base: base, type: type, rows: w.rows, cols: w.cols,
                                     rowBytes: rowBytes), seed: UInt64(index))
                }
            }
        }
        #expect(seen.isSuperset(of: ["F16", "Q8_0", "Q4_K", "Q6_K"]), "the fixtures' blocks covered only \(seen.sorted())")
    }

    /// `Linear.forward` on stored matrices: the same bits with 1 and 2 threads, for few rows (the
    /// fused kernels) and many (decoded tiles and sgemm); with one row, exactly the fused kernel's
    /// output in the logical order (no f32 copy of the matrix is involved).
    @Test func linearForwardIsThreadIndependentAndFused() throws {
        for model in RuntimeTest.models {
            let lm = try LanguageModel.load(try RuntimeTest.fixture(model, "model-q4_k_m.gguf"), options: LoadOptions(threads: 1, tokenizer: .skip))
            let matrices = lm.weights.layers[1].matrices + [lm.weights.output]
            var rng = SplitMix(seed: 42)
            for w in matrices {
                for m in [1, 3, Linear.fusedMaxRows, Linear.fusedMaxRows + 1, 40] {
                    let x = (0..<(m * w.cols)).map { _ in rng.nextFloat() }
                    let one = Linear.forward(x, rows: m, weight: w, bias: nil, workspace: Workspace(threads: 1))
                    let two = Linear.forward(x, rows: m, weight: w, bias: nil, workspace: Workspace(threads: 2))
                    #expect(zip(one, two).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(model) \(w.name) m=\(m): 1 and 2 threads differ")
                    guard m == 1, let stored = w.fusedStorage else { continue }
                    var direct = [Float](repeating: .nan, count: w.rows)
                    x.withUnsafeBufferPointer { xp in
                        direct.withUnsafeMutableBufferPointer {
                            StoredKernels.gemv(stored.code, stored.base, rowBytes: stored.rowBytes, rows: w.rows, k: w.cols,
                                               x: xp.baseAddress!, ldx: w.cols, m: 1, y: $0.baseAddress!, ldy: w.rows)
                        }
                    }
                    let logical = w.logicalRow.map { map in
                        var l = direct
                        for s in 0..<w.rows { l[map[s]] = direct[s] }
                        return l
                    } ?? direct
                    #expect(zip(one, logical).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(model) \(w.name): one row is not the fused kernel's output")
                }
            }
        }
    }

    /// `Linear.backwardInput` on stored matrices (row blocks, never the whole matrix decoded): the
    /// same bits with 1 and 2 threads, and within the rounding bound of any order of the n-term sums
    /// of the exact f64 product with the decoded values.
    @Test func backwardInputOnStoredMatrices() throws {
        let lm = try LanguageModel.load(try RuntimeTest.fixture("llama-tiny", "model-q4_k_m.gguf"), options: LoadOptions(threads: 1, tokenizer: .skip))
        var rng = SplitMix(seed: 9)
        for w in lm.weights.layers[0].matrices + [lm.weights.output] {
            #expect(w.needsDecoding)
            let values = w.values()
            for m in [1, 3] {
                let dy = (0..<(m * w.rows)).map { _ in rng.nextFloat() }
                var one = [Float](repeating: .nan, count: m * w.cols), two = one
                dy.withUnsafeBufferPointer { d in
                    one.withUnsafeMutableBufferPointer { Linear.backwardInput(d.baseAddress!, rows: m, weight: w, into: $0.baseAddress!, workspace: Workspace(threads: 1)) }
                    two.withUnsafeMutableBufferPointer { Linear.backwardInput(d.baseAddress!, rows: m, weight: w, into: $0.baseAddress!, workspace: Workspace(threads: 2)) }
                }
                #expect(zip(one, two).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(w.name) m=\(m): 1 and 2 threads differ")
                let bound = Self.gamma(w.rows + 1)
                for i in 0..<m {
                    for c in 0..<w.cols {
                        var dot = 0.0, magnitude = 0.0
                        for r in 0..<w.rows {
                            let p = Double(dy[i * w.rows + r]) * Double(values[r * w.cols + c])
                            dot += p
                            magnitude += abs(p)
                        }
                        let allowed = bound * magnitude + Double(w.rows) * 0x1p-52 * magnitude
                        let err = abs(Double(one[i * w.cols + c]) - dot)
                        #expect(err <= allowed, "\(w.name) m=\(m): dx[\(i), \(c)] off by \(err) > \(allowed)")
                    }
                }
            }
        }
    }
}
