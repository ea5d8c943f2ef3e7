import Foundation
import PruneFormats

/// `prune-diff A B`: compares two models tensor by tensor.
///
/// Both files are read in one front-to-back pass when the tensors they share are stored in the same
/// order (B is then streamed in lockstep with A); otherwise B is opened for random access. Equal
/// bytes are recognised without decoding; only the pair of tensors being compared is decoded at a
/// time, so memory is bounded by the largest changed tensor, not by the model.
public enum ModelDiff {
    public static func compare(_ pathA: String, _ pathB: String, options: DiffOptions = DiffOptions(),
                               progress: ((_ done: Int, _ total: Int, _ tensor: String) -> Void)? = nil) throws -> DiffReport {
        var a = try DiffTensorSource(streaming: pathA)
        var b = try DiffTensorSource(streaming: pathB)
        var layout = DiffLayoutComparer.compare(a.header, b.header)
        layout.compressedA = a.compressed
        layout.compressedB = b.compressed
        layout.shardsA = a.folder.map { ($0.headers.count, $0.compressedShards) }
        layout.shardsB = b.folder.map { ($0.headers.count, $0.compressedShards) }
        let orderDiffers = layout.orderDiffers
        // Across the shards of a folder the order is the shard layout's, not a difference of the
        // models: a folder and the single file of the same tensors are the same model.
        if a.isFolder || b.isFolder { layout.orderDiffers = false }
        // Tensors stored in different orders: one side is opened for random access (B, or A when B
        // is standard input, which cannot be read twice) and the other is streamed in its own order.
        var streamB = false
        if orderDiffers {
            if pathB != "-" {
                if !b.isFolder { b = try DiffTensorSource(randomAccess: pathB) }
            } else {
                if !a.isFolder { a = try DiffTensorSource(randomAccess: pathA) }
                streamB = true
            }
        }
        var byNameA: [String: TensorInfo] = [:], byNameB: [String: TensorInfo] = [:]
        for t in a.header.tensors { byNameA[t.name] = t }
        for t in b.header.tensors { byNameB[t.name] = t }
        let common = (streamB ? b.header.tensors : a.header.tensors)
            .filter { byNameA[$0.name] != nil && byNameB[$0.name] != nil }.map(\.name)
        var report = DiffReport(pathA: pathA, pathB: pathB, layout: layout, tensors: [], unchanged: 0)
        for (i, name) in common.enumerated() {
            guard let ta = byNameA[name], let tb = byNameB[name] else { continue }
            progress?(i, common.count, name)
            let result = try a.withBytes(ta) { bytesA in
                try b.withBytes(tb) { bytesB in
                    try compareTensor(ta, bytesA, tb, bytesB, pathA: pathA, pathB: pathB, options: options)
                }
            }
            if let result { report.tensors.append(result) } else { report.unchanged += 1 }
        }
        if streamB {
            let order = Dictionary(a.header.tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { x, _ in x })
            report.tensors.sort { (order[$0.name] ?? 0) < (order[$1.name] ?? 0) }
        }
        progress?(common.count, common.count, "")
        return report
    }

    /// nil when the tensor is unchanged (same dtype, shape and bytes).
    static func compareTensor(_ ta: TensorInfo, _ bytesA: UnsafeRawBufferPointer,
                              _ tb: TensorInfo, _ bytesB: UnsafeRawBufferPointer,
                              pathA: String, pathB: String, options: DiffOptions) throws -> TensorDiff? {
        let sameBytes = bytesA.count == bytesB.count && bytesA.elementsEqual(bytesB)
        if ta.type == tb.type && ta.shape == tb.shape && sameBytes { return nil }
        var d = TensorDiff(name: ta.name, typeA: ta.type, typeB: tb.type, shapeA: ta.shape, shapeB: tb.shape,
                           changed: true)
        guard ta.shape == tb.shape else {
            d.note = "shapes differ"
            return d
        }
        guard TensorCodec.canDecode(ta.type), TensorCodec.canDecode(tb.type) else {
            let which = TensorCodec.canDecode(ta.type) ? tb.type : ta.type
            d.note = "dtype \(which) does not decode to numbers; bytes differ"
            return d
        }
        let count = ta.elementCount
        let (rows, cols) = ta.matrixShape ?? (1, 1)
        d.rows = rows
        d.cols = cols
        let va: [Float], vb: [Float]
        do {
            va = try TensorCodec.decode(bytesA, as: ta.type, count: count)
        } catch {
            throw DiffError.cannotDecode(path: displayName(pathA), tensor: ta.name, reason: describe(error))
        }
        do {
            vb = try TensorCodec.decode(bytesB, as: tb.type, count: count)
        } catch {
            throw DiffError.cannotDecode(path: displayName(pathB), tensor: tb.name, reason: describe(error))
        }
        var maxAbs = 0.0, sumSq = 0.0, normASq = 0.0, changed = 0
        var delta = [Float](repeating: 0, count: count)
        var finite = true
        for i in 0..<count {
            let x = Double(va[i]), y = Double(vb[i])
            normASq += x * x
            if va[i].bitPattern == vb[i].bitPattern { continue }
            changed += 1
            let diff = y - x
            if !diff.isFinite { finite = false; continue }
            maxAbs = max(maxAbs, abs(diff))
            sumSq += diff * diff
            delta[i] = Float(diff)
        }
        d.changedElements = changed
        d.changed = changed > 0 || !sameBytes
        if !d.changed { return nil }
        guard finite else {
            d.note = "non-finite values; no spectrum"
            return d
        }
        d.maxAbs = maxAbs
        d.frobenius = sumSq.squareRoot()
        d.relativeFrobenius = normASq > 0 ? (sumSq / normASq).squareRoot() : nil
        do {
            d.sigmaMaxA = try sigmaMax(va, rows: rows, cols: cols, tensor: ta.name)
            d.sigmaMaxB = try sigmaMax(vb, rows: rows, cols: cols, tensor: ta.name)
            let u = max(DiffSpectrumCalculator.unitRoundoff(ta.type), DiffSpectrumCalculator.unitRoundoff(tb.type))
            let floor = DiffSpectrumCalculator.noiseFloor(values: vb, rows: rows, cols: cols, unitRoundoff: u)
            d.spectrum = try DiffSpectrumCalculator.compute(delta: delta, rows: rows, cols: cols, noiseFloor: floor,
                                                            top: options.topSingularValues,
                                                            maxProbe: options.maxRankProbe, tensor: ta.name)
            if options.spectra {
                d.conditionA = try condition(va, rows: rows, cols: cols)
                d.conditionB = try condition(vb, rows: rows, cols: cols)
            }
        } catch let e as DiffError {
            throw e
        } catch {
            throw DiffError.numerics(path: displayName(pathB), tensor: ta.name, reason: describe(error))
        }
        return d
    }

    /// σ_max, or nil for a matrix holding non-finite values.
    static func sigmaMax(_ v: [Float], rows: Int, cols: Int, tensor: String) throws -> Double? {
        guard v.allSatisfy({ $0.isFinite }) else { return nil }
        return try SpectralNorm.estimate(weights: v, rows: rows, cols: cols, tensor: tensor).sigmaMax
    }

    /// σ_max / σ_min over all min(rows, cols) singular values (infinite when σ_min = 0).
    static func condition(_ v: [Float], rows: Int, cols: Int) throws -> Double? {
        guard v.allSatisfy({ $0.isFinite }) else { return nil }
        let s = try Matrix(rows: rows, cols: cols, floats: v).singularValues()
        guard let first = s.first, let last = s.last, first > 0 else { return nil }
        return last > 0 ? first / last : .infinity
    }

    static func describe(_ error: Error) -> String {
        (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    }
}
