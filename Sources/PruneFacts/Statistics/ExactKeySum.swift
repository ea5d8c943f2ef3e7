import Foundation
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
                        let x = c[i * m + j]
                        let y = (x * Self.scale).rounded(.toNearestOrEven)
                        guard y.magnitude < Self.limit * Self.scale else { bad = (i, j); break rows }
                        let (s, o) = v[k].addingReportingOverflow(Int128(y))
                        guard !o, s.magnitude < UInt128(1) << 126 else { bad = (i, j); break rows }
                        v[k] = s
                        k += 1
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
        out.withUnsafeMutableBufferPointer { d in
            values.withUnsafeBufferPointer { v in
                var k = 0
                for i in 0..<m {
                    for j in i..<m {
                        let x = Double(v[k]) / Self.scale
                        d[i * m + j] = x
                        d[j * m + i] = x
                        k += 1
                    }
                }
                for i in 0..<m where v[Self.index(i, i, width: m)] == 0 {
                    for j in 0..<m { d[i * m + j] = 0; d[j * m + i] = 0 }
                }
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
        return values.withUnsafeBufferPointer { v in
            sum.withUnsafeBufferPointer { d in
                var k = 0
                for i in 0..<m {
                    let dead = v[Self.index(i, i, width: m)] == 0
                    for j in i..<m {
                        let x = dead || v[Self.index(j, j, width: m)] == 0 ? 0 : Double(v[k]) / Self.scale
                        guard d[i * m + j] == x, d[j * m + i] == x else { return false }
                        k += 1
                    }
                }
                return true
            }
        }
    }

    /// Reads `bytes` written by `bytes` (the caller checked the length); nil when an entry is out of range.
    static func decode(width: Int, raw: UnsafeRawBufferPointer) -> ExactKeySum? {
        let n = width * (width + 1) / 2
        var values = [Int128](repeating: 0, count: n)
        for k in 0..<n {
            let lo = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 16, as: UInt64.self))
            let hi = Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 16 + 8, as: UInt64.self)))
            let x = Int128(hi) << 64 | Int128(lo)
            guard x.magnitude < UInt128(1) << 126 else { return nil }
            values[k] = x
        }
        return ExactKeySum(width: width, values: values)
    }
}
