import PruneFormats

/// One weight matrix of a linear layer, seen as W [rows = output features, cols = input features]
/// (y = W·x, torch's nn.Linear orientation) whatever the file stores.
///
/// f32 weights are used straight from the mapping; 16-bit and quantized weights stay mapped in
/// their stored form and are decoded a block of rows at a time into a caller's scratch buffer, so
/// that a forward never holds more than one block per thread in f32; with few activation rows the
/// fused kernels (`StoredKernels`) read the stored blocks directly.
public final class WeightMatrix: @unchecked Sendable {
    /// The tensor's name in its file ("" for a matrix set in memory).
    public let name: String
    public let rows: Int
    public let cols: Int
    let storage: Storage
    /// GGUF q/k projections: stored row s holds row `logicalRow[s]` of the Hugging Face matrix
    /// (llama.cpp's permutation for its RoPE layout). nil when stored rows are logical rows.
    let logicalRow: [Int]?
    /// Keeps the mapping (or the owned buffer) alive.
    private let owner: AnyObject?

    enum Storage {
        /// rows × cols f32, row-major.
        case f32(UnsafePointer<Float>)
        /// cols × rows f32 (Hugging Face GPT-2 Conv1D weights [in, out]).
        case f32Transposed(UnsafePointer<Float>)
        /// rows × cols in `type`, each row `rowBytes` bytes (blocks run along a row).
        case encoded(UnsafeRawPointer, TensorType, rowBytes: Int)
        /// cols × rows in an element-wise `type` (`elementBytes` each).
        case encodedTransposed(UnsafeRawPointer, TensorType, elementBytes: Int)
        /// rows × cols f32 owned by this object (decoded, or set in memory).
        case owned(UnsafeMutablePointer<Float>)
    }

    init(name: String, rows: Int, cols: Int, storage: Storage, logicalRow: [Int]?, owner: AnyObject?) {
        self.name = name
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.logicalRow = logicalRow
        self.owner = owner
    }

    /// A matrix owning a copy of `values` (rows × cols, logical order).
    public convenience init(name: String = "", rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "WeightMatrix: \(values.count) values for \(rows) × \(cols)")
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * cols))
        values.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: values.count) }
        self.init(name: name, rows: rows, cols: cols, storage: .owned(p), logicalRow: nil, owner: nil)
    }

    deinit {
        if case .owned(let p) = storage { p.deallocate() }
    }

    /// The stored element type ("F32", "Q4_K", …).
    public var storedType: String {
        switch storage {
        case .f32, .f32Transposed, .owned: return "F32"
        case .encoded(_, let t, _), .encodedTransposed(_, let t, _): return t.description
        }
    }

    /// Whether the forward decodes this matrix (it is not f32 in memory).
    var needsDecoding: Bool {
        switch storage {
        case .encoded, .encodedTransposed: return true
        default: return false
        }
    }

    /// Rows stored in a type the fused kernels read (`StoredKernels`): base, kernel code, bytes per row.
    var fusedStorage: (base: UnsafeRawPointer, code: Int32, rowBytes: Int)? {
        guard case .encoded(let base, let type, let rowBytes) = storage, let code = StoredKernels.code(type) else { return nil }
        return (base, code, rowBytes)
    }

    /// Floats of scratch `rowBlock` needs for a block of `count` rows.
    static func scratchFloats(rows count: Int, cols: Int) -> Int { count * cols + count }

    /// Stored rows `r0 ..< r1` as f32: `(pointer, leading dimension, transposed)`. Not transposed:
    /// the block is (r1-r0) × cols with rows `ld` apart. Transposed: cols × (r1-r0) with rows `ld` apart.
    /// Decoded blocks go to `scratch` (at least `scratchFloats(rows:cols:)` floats).
    func rowBlock(_ r0: Int, _ r1: Int, scratch: UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, ld: Int, transposed: Bool) {
        switch storage {
        case .f32(let p): return (p + r0 * cols, cols, false)
        case .owned(let p): return (UnsafePointer(p) + r0 * cols, cols, false)
        case .f32Transposed(let p): return (p + r0, rows, true)
        case .encoded, .encodedTransposed:
            decodeRows(r0, r1, into: scratch, spare: scratch + (r1 - r0) * cols)
            return (UnsafePointer(scratch), cols, false)
        }
    }

    /// Decodes stored rows `r0 ..< r1` into `dst` ((r1-r0) × cols). `spare` holds r1-r0 floats.
    func decodeRows(_ r0: Int, _ r1: Int, into dst: UnsafeMutablePointer<Float>, spare: UnsafeMutablePointer<Float>) {
        let n = r1 - r0
        switch storage {
        case .f32(let p): dst.update(from: p + r0 * cols, count: n * cols)
        case .owned(let p): dst.update(from: p + r0 * cols, count: n * cols)
        case .f32Transposed(let p):
            for i in 0..<cols { for j in 0..<n { dst[j * cols + i] = p[i * rows + r0 + j] } }
        case .encoded(let base, let type, let rowBytes):
            if let code = StoredKernels.code(type) {
                StoredKernels.decode(code, base + r0 * rowBytes, rowBytes: rowBytes, rows: n, k: cols, into: dst, ldd: cols)
                return
            }
            // Sizes were validated at load, so decoding cannot fail.
            try? TensorCodec.decode(UnsafeRawBufferPointer(start: base + r0 * rowBytes, count: n * rowBytes), as: type,
                                    into: UnsafeMutableBufferPointer(start: dst, count: n * cols), threads: 1)
        case .encodedTransposed(let base, let type, let e):
            for i in 0..<cols {
                try? TensorCodec.decode(UnsafeRawBufferPointer(start: base + (i * rows + r0) * e, count: n * e), as: type,
                                        into: UnsafeMutableBufferPointer(start: spare, count: n), threads: 1)
                for j in 0..<n { dst[j * cols + i] = spare[j] }
            }
        }
    }

    /// Row `r` of the logical matrix (an embedding lookup) into `dst` (cols floats).
    func logicalRowValues(_ r: Int, into dst: UnsafeMutablePointer<Float>, spare: UnsafeMutablePointer<Float>) {
        var stored = r
        if let map = logicalRow, let s = map.firstIndex(of: r) { stored = s }
        decodeRows(stored, stored + 1, into: dst, spare: spare)
    }

    /// The whole matrix in logical order (rows × cols, row r = output feature r).
    public func values() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        var spare = [Float](repeating: 0, count: rows)
        out.withUnsafeMutableBufferPointer { o in
            spare.withUnsafeMutableBufferPointer { s in
                decodeRows(0, rows, into: o.baseAddress!, spare: s.baseAddress!)
            }
        }
        guard let map = logicalRow else { return out }
        var logical = [Float](repeating: 0, count: rows * cols)
        for s in 0..<rows { logical[map[s] * cols ..< (map[s] + 1) * cols] = out[s * cols ..< (s + 1) * cols] }
        return logical
    }
}
