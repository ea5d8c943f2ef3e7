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

    /// X with A X = B for a symmetric positive definite A (Cholesky, `dposv`); when A is not
    /// positive definite in floating point, LU with partial pivoting (`dgesv`).
    public static func solveSymmetric(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        precondition(a.rows == a.cols && a.rows == b.rows)
        let n = a.rows, k = b.cols
        var aa = a.storage, bb = b.storage
        let info = BLASThreads.deterministic {
            aa.withUnsafeMutableBufferPointer { pa in
                bb.withUnsafeMutableBufferPointer { pb in
                    LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), Int32(k),
                                  pa.baseAddress, Int32(n), pb.baseAddress, Int32(k))
                }
            }
        }
        if info == 0 { return try Matrix(rows: n, cols: k, values: bb) }
        return try solve(a, b)
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
