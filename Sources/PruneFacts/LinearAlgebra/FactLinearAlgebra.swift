import CBLAS
import CLAPACKE
import PruneFormats
import PruneKit

/// The dense solves of the three methods, in float64 over LAPACK (one BLAS thread: the results do not
/// depend on the thread count).
public enum FactLinearAlgebra {
    public enum Failure: Error, Equatable {
        /// The matrix is singular (LAPACK's info).
        case singular(routine: String, info: Int)
    }

    /// X with A X = B for a symmetric positive definite A (Cholesky); when A is not positive
    /// definite in floating point, LU with partial pivoting (`SymmetricFactor`).
    public static func solveSymmetric(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        precondition(a.rows == a.cols && a.rows == b.rows)
        return try SymmetricFactor(a).solve(b)
    }

    /// A symmetric n × n matrix factored once and solved against many right-hand sides: Cholesky
    /// (`dpotrf`) or, when it is not positive definite in floating point, LU with partial pivoting
    /// (`dgetrf`), as `solveSymmetric` does it. The factor takes the place of the matrix, in its own
    /// buffer: column-major LAPACK on the row-major symmetric A (no transposed copy), and a failed
    /// Cholesky, which writes one triangle only, gives A back from the other triangle and the saved
    /// diagonal (no copy kept for the fallback). Solving with an m × m C holds C's factor alone.
    public struct SymmetricFactor: Sendable {
        public let n: Int
        let factor: [Double]
        /// LU's pivots; nil for Cholesky.
        let pivots: [Int32]?

        /// Factors the symmetric A (row-major n × n, both triangles) and takes its buffer: `a` is
        /// left empty (the caller's only reference: no copy is made).
        public init(taking a: inout [Double], n: Int) throws {
            precondition(a.count == n * n)
            self.n = n
            var m: [Double] = []
            swap(&m, &a)
            let diagonal = (0..<n).map { m[$0 * n + $0] }
            // Column-major "L" is the row-major upper triangle; the row-major lower one stays as it was.
            let info = BLASThreads.deterministic {
                m.withUnsafeMutableBufferPointer { LAPACKE_dpotrf(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), $0.baseAddress, Int32(n)) }
            }
            if info == 0 {
                factor = m
                pivots = nil
                return
            }
            m.withUnsafeMutableBufferPointer { p in
                for j in 0..<n {
                    p[j + j * n] = diagonal[j]
                    for i in (j + 1)..<n { p[i + j * n] = p[j + i * n] }
                }
            }
            var piv = [Int32](repeating: 0, count: n)
            let lu = BLASThreads.deterministic {
                m.withUnsafeMutableBufferPointer { pa in
                    piv.withUnsafeMutableBufferPointer { LAPACKE_dgetrf(LAPACK_COL_MAJOR, Int32(n), Int32(n), pa.baseAddress, Int32(n), $0.baseAddress) }
                }
            }
            guard lu == 0 else { throw Failure.singular(routine: "dgetrf", info: Int(lu)) }
            factor = m
            pivots = piv
        }

        /// The factor of the symmetric `a` (one copy of it).
        public init(_ a: Matrix) throws {
            precondition(a.rows == a.cols)
            var s = a.storage
            try self.init(taking: &s, n: a.rows)
        }

        /// X with A X = B (B: n × k, row-major).
        public func solve(_ b: Matrix) throws -> Matrix {
            precondition(b.rows == n)
            let k = b.cols
            // B in column-major order (k columns of n).
            var bb = [Double](repeating: 0, count: n * k)
            for i in 0..<n { for j in 0..<k { bb[j * n + i] = b.storage[i * k + j] } }
            let info = BLASThreads.deterministic {
                factor.withUnsafeBufferPointer { pf in
                    bb.withUnsafeMutableBufferPointer { pb in
                        if let pivots {
                            return pivots.withUnsafeBufferPointer {
                                LAPACKE_dgetrs(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "T")), Int32(n), Int32(k), pf.baseAddress, Int32(n),
                                               $0.baseAddress, pb.baseAddress, Int32(n))
                            }
                        }
                        return LAPACKE_dpotrs(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), Int32(k), pf.baseAddress, Int32(n),
                                              pb.baseAddress, Int32(n))
                    }
                }
            }
            guard info == 0 else { throw Failure.singular(routine: pivots == nil ? "dpotrs" : "dgetrs", info: Int(info)) }
            var out = [Double](repeating: 0, count: n * k)
            for i in 0..<n { for j in 0..<k { out[i * k + j] = bb[j * n + i] } }
            return try Matrix(rows: n, cols: k, values: out)
        }
    }

    /// λC + K Kᵀ (C = I when nil), m × m row-major and symmetric: one buffer, K Kᵀ added to its upper
    /// triangle by a single-threaded `dsyrk` (no m × m product of its own), then mirrored.
    public static func regularizedGram(_ k: Matrix, moment c: Matrix?, lambda: Double) -> [Double] {
        let m = k.rows, n = k.cols
        var a = [Double](repeating: 0, count: m * m)
        if let c {
            precondition(c.rows == m && c.cols == m)
            c.storage.withUnsafeBufferPointer { pc in
                for i in 0..<m { for j in i..<m { a[i * m + j] = lambda * pc[i * m + j] } }
            }
        } else {
            for i in 0..<m { a[i * m + i] = lambda }
        }
        BLASThreads.deterministic {
            k.storage.withUnsafeBufferPointer { pk in
                a.withUnsafeMutableBufferPointer { pa in
                    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, blasint(m), blasint(n), 1, pk.baseAddress, blasint(n),
                                1, pa.baseAddress, blasint(m))
                }
            }
        }
        a.withUnsafeMutableBufferPointer { p in
            for i in 0..<m { for j in (i + 1)..<m { p[j * m + i] = p[i * m + j] } }
        }
        return a
    }

    /// X with A X = B for a general square A (`dgesv`).
    public static func solve(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        precondition(a.rows == a.cols && a.rows == b.rows)
        let n = a.rows, k = b.cols
        var aa = a.storage, bb = b.storage
        var piv = [Int32](repeating: 0, count: n)
        let info = BLASThreads.deterministic {
            aa.withUnsafeMutableBufferPointer { pa in
                bb.withUnsafeMutableBufferPointer { pb in
                    piv.withUnsafeMutableBufferPointer { pp in
                        LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(k), pa.baseAddress, Int32(n), pp.baseAddress,
                                      pb.baseAddress, Int32(k))
                    }
                }
            }
        }
        guard info == 0 else { throw Failure.singular(routine: "dgesv", info: Int(info)) }
        return try Matrix(rows: n, cols: k, values: bb)
    }

    /// AlphaEdit's projector onto the null space of C: P = Û Ûᵀ with Û the eigenvectors of C whose
    /// eigenvalues are below `threshold` (C is symmetric positive semidefinite, so its eigenvalues are
    /// its singular values). Returns P and the null space's dimension.
    public static func nullSpaceProjector(_ c: Matrix, threshold: Double) throws -> (p: Matrix, dimension: Int) {
        let (values, vectors) = try BLASThreads.deterministic { try c.symmetricEigen() }
        let keep = values.indices.filter { values[$0] < threshold }
        let n = c.rows
        guard !keep.isEmpty else { return (Matrix(rows: n, cols: n), 0) }
        var u = [Double](repeating: 0, count: n * keep.count)
        for i in 0..<n { for (j, col) in keep.enumerated() { u[i * keep.count + j] = vectors[i, col] } }
        let um = try Matrix(rows: n, cols: keep.count, values: u)
        let p = BLASThreads.deterministic { Matrix.gemm(um, um, transposeB: true) }
        return (p, keep.count)
    }
}
