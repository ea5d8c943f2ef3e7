import CLAPACKE
import Foundation
import PruneFormats

/// A singular value decomposition `A = U · diag(s) · Vᵀ` with singular values in descending order.
public struct SingularValueDecomposition: Sendable {
    /// Left singular vectors as columns (rows × k); empty (0 columns) when only values were requested.
    public let u: Matrix
    /// Singular values, descending.
    public let s: [Double]
    /// Right singular vectors as rows (k × cols); empty when only values were requested.
    public let vt: Matrix
}

/// How much of U and Vᵀ an SVD computes.
public enum SVDVectors: Sendable {
    /// Singular values only.
    case none
    /// Thin: U is rows × min, Vᵀ is min × cols.
    case thin
    /// Full: U is rows × rows, Vᵀ is cols × cols (what numpy's default `full_matrices=True` does).
    case full
}

/// LAPACKE's `lapack_int` (a C macro, 32-bit in this build).
typealias LapackInt = Int32

/// LAPACK's 32-bit index type limits the matrices it accepts.
@inline(__always) func lapackDimension(_ n: Int) -> LapackInt? {
    n >= 0 && n <= Int(Int32.max) ? LapackInt(n) : nil
}

extension Matrix {
    /// Thin Householder QR (`dgeqrf` + `dorgqr`): `self = q · r`, q is rows × k with orthonormal
    /// columns, r is k × cols upper triangular, k = min(rows, cols).
    public func qr() throws -> (q: Matrix, r: Matrix) {
        let m = rows, n = cols, k = min(rows, cols)
        guard let lm = lapackDimension(m), let ln = lapackDimension(n), let lk = lapackDimension(k) else {
            throw RestraintError.invalidDimensions(tensor: "<matrix>", rows: m, cols: n)
        }
        if k == 0 { return (Matrix(rows: m, cols: 0), Matrix(rows: 0, cols: n)) }
        var a = storage
        var tau = [Double](repeating: 0, count: k)
        let info1 = a.withUnsafeMutableBufferPointer { pa in
            tau.withUnsafeMutableBufferPointer { pt in
                LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, lm, ln, pa.baseAddress, max(1, ln), pt.baseAddress)
            }
        }
        guard info1 == 0 else { throw RestraintError.lapackFailure(tensor: "<matrix>", routine: "dgeqrf", info: Int(info1)) }
        var r = Matrix(rows: k, cols: n)
        for i in 0..<k {
            for j in i..<n { r.storage[i * n + j] = a[i * n + j] }
        }
        // Q: the first k columns of the m × n reflector storage.
        var q: [Double]
        if k == n {
            q = a
        } else {
            q = [Double](repeating: 0, count: m * k)
            for i in 0..<m { for j in 0..<k { q[i * k + j] = a[i * n + j] } }
        }
        let info2 = q.withUnsafeMutableBufferPointer { pq in
            tau.withUnsafeBufferPointer { pt in
                LAPACKE_dorgqr(LAPACK_ROW_MAJOR, lm, lk, lk, pq.baseAddress, max(1, lk), pt.baseAddress)
            }
        }
        guard info2 == 0 else { throw RestraintError.lapackFailure(tensor: "<matrix>", routine: "dorgqr", info: Int(info2)) }
        return (Matrix(rows: m, cols: k, unchecked: q), r)
    }

    /// SVD by divide and conquer (`dgesdd`), falling back to `dgesvd` if it does not converge.
    public func svd(_ vectors: SVDVectors = .thin) throws -> SingularValueDecomposition {
        let m = rows, n = cols, k = min(rows, cols)
        guard let lm = lapackDimension(m), let ln = lapackDimension(n) else {
            throw RestraintError.invalidDimensions(tensor: "<matrix>", rows: m, cols: n)
        }
        if k == 0 {
            return SingularValueDecomposition(u: Matrix(rows: m, cols: 0), s: [], vt: Matrix(rows: 0, cols: n))
        }
        let (uCols, vtRows): (Int, Int)
        let job: Int8
        switch vectors {
        case .none: (uCols, vtRows, job) = (0, 0, Int8(UInt8(ascii: "N")))
        case .thin: (uCols, vtRows, job) = (k, k, Int8(UInt8(ascii: "S")))
        case .full: (uCols, vtRows, job) = (m, n, Int8(UInt8(ascii: "A")))
        }
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: max(1, m * uCols))
        var vt = [Double](repeating: 0, count: max(1, vtRows * n))
        func run(_ divideAndConquer: Bool) -> LapackInt {
            var a = storage
            var superb = [Double](repeating: 0, count: max(1, k - 1))
            return a.withUnsafeMutableBufferPointer { pa in
                s.withUnsafeMutableBufferPointer { ps in
                    u.withUnsafeMutableBufferPointer { pu in
                        vt.withUnsafeMutableBufferPointer { pv in
                            superb.withUnsafeMutableBufferPointer { pw in
                                if divideAndConquer {
                                    return LAPACKE_dgesdd(LAPACK_ROW_MAJOR, job, lm, ln, pa.baseAddress, ln, ps.baseAddress,
                                                          pu.baseAddress, LapackInt(max(1, uCols)),
                                                          pv.baseAddress, ln)
                                }
                                return LAPACKE_dgesvd(LAPACK_ROW_MAJOR, job, job, lm, ln, pa.baseAddress, ln, ps.baseAddress,
                                                      pu.baseAddress, LapackInt(max(1, uCols)),
                                                      pv.baseAddress, ln, pw.baseAddress)
                            }
                        }
                    }
                }
            }
        }
        var info = run(true)
        if info > 0 { info = run(false) }
        guard info == 0 else {
            throw RestraintError.lapackFailure(tensor: "<matrix>", routine: "dgesdd/dgesvd", info: Int(info))
        }
        return SingularValueDecomposition(
            u: Matrix(rows: m, cols: uCols, unchecked: uCols == 0 ? [] : u),
            s: s,
            vt: Matrix(rows: vtRows, cols: n, unchecked: vtRows == 0 ? [] : vt))
    }

    /// Singular values only, descending.
    public func singularValues() throws -> [Double] { try svd(.none).s }

    /// Eigen-decomposition of a symmetric matrix (`dsyevd`, upper triangle used).
    /// Returns eigenvalues in DESCENDING order and the eigenvectors as the matching columns.
    public func symmetricEigen() throws -> (values: [Double], vectors: Matrix) {
        precondition(rows == cols, "symmetricEigen: matrix must be square")
        let n = rows
        if n == 0 { return ([], Matrix(rows: 0, cols: 0)) }
        var a = storage
        let w = try Self.dsyevd(&a, n: n, vectors: true)
        // Reverse to descending order.
        var values = [Double](repeating: 0, count: n)
        var vectors = Matrix(rows: n, cols: n)
        for j in 0..<n {
            values[j] = w[n - 1 - j]
            for i in 0..<n { vectors.storage[i * n + j] = a[i * n + (n - 1 - j)] }
        }
        return (values, vectors)
    }

    /// The eigenvalues (ascending) of the symmetric n × n matrix in `a`, which is overwritten
    /// (`dsyevd` without vectors, on the buffer itself: no copy, O(n) workspace). `a` must be exactly
    /// symmetric: it is handed to LAPACK as column-major, which reads the other triangle.
    public static func symmetricEigenvalues(overwriting a: inout [Double], n: Int) throws -> [Double] {
        precondition(a.count == n * n, "symmetricEigenvalues: n × n values expected")
        if n == 0 { return [] }
        return try dsyevd(&a, n: n, vectors: false)
    }

    /// `dsyevd` on the upper triangle of `a` (n × n) in place: ascending eigenvalues, with the
    /// eigenvectors written over `a` (row-major) when `vectors`. Without them `a` goes to LAPACK as
    /// column-major, which needs no transposed copy (the matrix is symmetric).
    private static func dsyevd(_ a: inout [Double], n: Int, vectors: Bool) throws -> [Double] {
        guard let ln = lapackDimension(n) else {
            throw RestraintError.invalidDimensions(tensor: "<matrix>", rows: n, cols: n)
        }
        var w = [Double](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_dsyevd(vectors ? LAPACK_ROW_MAJOR : LAPACK_COL_MAJOR, Int8(UInt8(ascii: vectors ? "V" : "N")),
                               Int8(UInt8(ascii: "U")), ln, pa.baseAddress, ln, pw.baseAddress)
            }
        }
        guard info == 0 else { throw RestraintError.lapackFailure(tensor: "<matrix>", routine: "dsyevd", info: Int(info)) }
        return w
    }
}

/// The numerical rank rule of `numpy.linalg.matrix_rank`: the number of singular values strictly
/// greater than `σ₁ · max(rows, cols) · ε`.
public enum NumericalRank {
    /// The tolerance for singular values `s` (descending) of a rows × cols matrix.
    public static func tolerance(singularValues s: [Double], rows: Int, cols: Int, epsilon: Double) -> Double {
        (s.first ?? 0) * Double(max(rows, cols)) * epsilon
    }

    /// The rank: count of `s[i] > tolerance`.
    public static func rank(singularValues s: [Double], rows: Int, cols: Int, epsilon: Double) -> Int {
        let tol = tolerance(singularValues: s, rows: rows, cols: cols, epsilon: epsilon)
        return s.reduce(0) { $0 + ($1 > tol ? 1 : 0) }
    }
}
