import Foundation
import PruneFormats
import PruneKit

/// Σ k kᵀ held exactly: the upper triangle (row-major, j ≥ i) as Int128 fixed point at the binary
/// scale 2^-64. Floating-point sums depend on their order; these do not. Each fixed chunk of
/// documents is summed in f64 (in an order fixed by the text alone), rounded once to the nearest
/// multiple of 2^-64 and added here exactly, so that the total, and the f64 matrix written from it,
/// are the same whatever the split of the chunks into parts and the order the parts are merged in.
///
/// Range: |entry| < 2^62 (about 4.6·10^18) per chunk and in total, checked (`rangeExceeded`).
/// Resolution: a chunk's entry loses what lies below 2^-65 (about 2.7·10^-20); a diagonal entry
/// that rounds to zero makes its row and column zero in `doubles()` (a key coordinate that small is
/// a dead one), so the matrix stays a sum of k kᵀ in form.
public struct ExactKeySum: Sendable, Equatable {
    public static let fractionBits = 64
    /// Entries and their sums stay below this in magnitude (2^62): one bit of headroom below
    /// Int128's 2^127 / 2^64 for the sum of two in-range values.
    static let limit: Double = 0x1p62
    static let scale: Double = 0x1p64

    public let width: Int
    /// m(m+1)/2 entries: row i holds columns i…m−1.
    public private(set) var values: [Int128]

    public init(width: Int) {
        self.width = width
        values = [Int128](repeating: 0, count: width * (width + 1) / 2)
    }

    init(width: Int, values: [Int128]) {
        self.width = width
        self.values = values
    }

    /// The place of (i, j ≥ i) in `values`.
    @inline(__always) static func index(_ i: Int, _ j: Int, width m: Int) -> Int { i * m - i * (i - 1) / 2 + (j - i) }

    /// The error when an entry leaves the range (`name`: the file or run it concerns).
    static func rangeError(_ name: String, _ i: Int, _ j: Int) -> FactError {
        .statisticsMismatch(path: name, reason: "sum[\(i), \(j)] exceeds the exact accumulator's range (±2^62 at the scale 2^-64): keys this large are not activations")
    }

    /// Adds `x` rounded to the nearest multiple of 2^-64 (ties to even) to `v`; false when `x` or the
    /// total leaves the range.
    @inline(__always) static func accumulate(_ x: Double, into v: inout Int128) -> Bool {
        let y = (x * scale).rounded(.toNearestOrEven)
        guard y.magnitude < limit * scale else { return false }
        let (s, o) = v.addingReportingOverflow(Int128(y))
        guard !o, s.magnitude < UInt128(1) << 126 else { return false }
        v = s
        return true
    }

    /// Adds the upper triangle of `chunk` (m × m row-major f64, the lower triangle ignored), each entry
    /// rounded to the nearest multiple of 2^-64 (ties to even).
    public mutating func add(chunk: [Double], name: String) throws {
        let m = width
        precondition(chunk.count == m * m)
        var bad: (Int, Int)?
        chunk.withUnsafeBufferPointer { c in
            values.withUnsafeMutableBufferPointer { v in
                var k = 0
                rows: for i in 0..<m {
                    for j in i..<m {
                        guard Self.accumulate(c[i * m + j], into: &v[k]) else { bad = (i, j); break rows }
                        k += 1
                    }
                }
            }
        }
        if let (i, j) = bad { throw Self.rangeError(name, i, j) }
    }

    /// Adds a chunk's tiled sum, entry by entry as `add(chunk:)` adds the same matrix (the result is
    /// the same; a range error names the first entry out of range in tile order).
    mutating func add(tiles sum: TiledKeySum, name: String) throws {
        let m = width
        precondition(sum.width == m)
        var bad: (Int, Int)?
        sum.values.withUnsafeBufferPointer { t in
            values.withUnsafeMutableBufferPointer { v in
                tiles: for tile in sum.tiles {
                    for r in 0..<tile.ni {
                        let i = tile.i0 + r
                        let c0 = tile.i0 == tile.j0 ? r : 0
                        let row = tile.offset + r * tile.nj, k0 = Self.index(i, tile.j0, width: m)
                        for c in c0..<tile.nj where !Self.accumulate(t[row + c], into: &v[k0 + c]) {
                            bad = (i, tile.j0 + c)
                            break tiles
                        }
                    }
                }
            }
        }
        if let (i, j) = bad { throw Self.rangeError(name, i, j) }
    }

    /// Adds another exact sum of the same width (`name`: where it came from, for the range error).
    public mutating func add(_ other: ExactKeySum, name: String) throws {
        precondition(other.width == width)
        let m = width
        var bad: Int?
        other.values.withUnsafeBufferPointer { o in
            values.withUnsafeMutableBufferPointer { v in
                for k in 0..<v.count {
                    let (s, over) = v[k].addingReportingOverflow(o[k])
                    guard !over, s.magnitude < UInt128(1) << 126 else { bad = k; return }
                    v[k] = s
                }
            }
        }
        if let k = bad {
            var i = 0, start = 0
            while start + (m - i) <= k { start += m - i; i += 1 }
            throw Self.rangeError(name, i, i + (k - start))
        }
    }

    /// The sum as a symmetric m × m f64 matrix (each entry correctly rounded from the exact value);
    /// a zero diagonal entry zeroes its row and column.
    public func doubles() -> [Double] {
        var out = [Double](repeating: 0, count: width * width)
        fill(&out)
        return out
    }

    /// `doubles()` written into `out` (m × m), without a second matrix.
    public func fill(_ out: inout [Double]) {
        let m = width
        precondition(out.count == m * m)
        let live = liveColumns()
        out.withUnsafeMutableBufferPointer { d in
            for i in 0..<m { row(i, into: UnsafeMutableBufferPointer(rebasing: d[i * m ..< (i + 1) * m]), live: live) }
        }
    }

    /// Whether each row and column is live (a non-zero diagonal entry), found once per matrix.
    func liveColumns() -> [Bool] {
        values.withUnsafeBufferPointer { v in (0..<width).map { v[Self.index($0, $0, width: width)] != 0 } }
    }

    /// Row i of `doubles()` (m values): (j, i) of the triangle for j < i, (i, j) from i on; zero in a
    /// dead row or column (`live`: `liveColumns()`).
    func row(_ i: Int, into d: UnsafeMutableBufferPointer<Double>, live: [Bool]) {
        let m = width
        values.withUnsafeBufferPointer { v in
            guard live[i] else { d.update(repeating: 0); return }
            for j in 0..<i {
                d[j] = live[j] ? Double(v[Self.index(j, i, width: m)]) / Self.scale : 0
            }
            let k0 = Self.index(i, i, width: m)
            for j in i..<m {
                d[j] = live[j] ? Double(v[k0 + j - i]) / Self.scale : 0
            }
        }
    }

    /// The bytes of `doubles()` (little-endian f64, row-major), written to `sink` row by row: a file's
    /// `sum` tensor made from the exact sum without the m × m matrix.
    public func writeDoubles(to sink: SafetensorsBuilder.Sink) throws {
        let m = width
        var buffer = [Double](repeating: 0, count: m)
        let live = liveColumns()
        try buffer.withUnsafeMutableBufferPointer { d in
            for i in 0..<m {
                row(i, into: d, live: live)
                #if !_endian(little)
                for j in 0..<m { d[j] = Double(bitPattern: d[j].bitPattern.littleEndian) }
                #endif
                try sink(UnsafeRawBufferPointer(d))
            }
        }
    }

    /// The values as little-endian (low 64 bits, high 64 bits) pairs: the `sum_exact` tensor's bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 16)
        try? write { out.append(contentsOf: $0) }
        return out
    }

    /// `bytes`, written to `sink` in pieces.
    public func write(to sink: SafetensorsBuilder.Sink) throws {
        try values.withUnsafeBufferPointer { v in
            try SafetensorsBuilder.pieces(count: v.count, width: 16, sink: sink) { k, p in
                p.storeBytes(of: UInt64(truncatingIfNeeded: v[k]).littleEndian, as: UInt64.self)
                p.storeBytes(of: UInt64(truncatingIfNeeded: v[k] >> 64).littleEndian, toByteOffset: 8, as: UInt64.self)
            }
        }
    }

    /// Whether `sum` (m × m) is `doubles()`, without making it.
    public func matches(_ sum: [Double]) -> Bool {
        let m = width
        guard sum.count == m * m else { return false }
        var buffer = [Double](repeating: 0, count: m)
        let live = liveColumns()
        return buffer.withUnsafeMutableBufferPointer { d in
            sum.withUnsafeBufferPointer { s in
                for i in 0..<m {
                    row(i, into: d, live: live)
                    for j in 0..<m where s[i * m + j] != d[j] { return false }
                }
                return true
            }
        }
    }

    /// Reads `bytes` written by `bytes` (the caller checked the length); nil when an entry is out of range.
    /// The tensor `tensor` of `file` read in pieces (each given back once read).
    static func decode(width: Int, file: SafetensorsFile, tensor: String) throws -> ExactKeySum? {
        let n = width * (width + 1) / 2
        var values = [Int128](repeating: 0, count: n)
        var inRange = true
        try values.withUnsafeMutableBufferPointer { v in
            try file.withPieces(of: tensor) { raw, at in
                guard inRange else { return }
                for e in 0..<(raw.count / 16) {
                    let lo = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: e * 16, as: UInt64.self))
                    let hi = Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: e * 16 + 8, as: UInt64.self)))
                    let x = Int128(hi) << 64 | Int128(lo)
                    guard x.magnitude < UInt128(1) << 126 else { inRange = false; return }
                    v[at / 16 + e] = x
                }
            }
        }
        return inRange ? ExactKeySum(width: width, values: values) : nil
    }
}
