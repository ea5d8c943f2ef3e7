import CBLAS
import Foundation
import PruneFormats

/// Matrix products through OpenBLAS (`cblas_dgemm`).
extension Matrix {
    /// `alpha · op(a) · op(b)` where `op` transposes when the flag is set.
    public static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                            alpha: Double = 1) -> Matrix {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions differ (\(k) vs \(kb))")
        var c = Matrix(rows: m, cols: n)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, alpha: alpha, beta: 0, into: &c)
        return c
    }

    /// `c = alpha · op(a) · op(b) + beta · c`.
    public static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                            alpha: Double = 1, beta: Double, into c: inout Matrix) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let n = transposeB ? b.rows : b.cols
        precondition(c.rows == m && c.cols == n, "gemm: output shape")
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<c.storage.count { c.storage[i] *= beta }
            return
        }
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                blasint(m), blasint(n), blasint(k), alpha,
                                pa.baseAddress, blasint(max(1, a.cols)),
                                pb.baseAddress, blasint(max(1, b.cols)),
                                beta, pc.baseAddress, blasint(max(1, n)))
                }
            }
        }
    }

    public static func * (a: Matrix, b: Matrix) -> Matrix { gemm(a, b) }
}

/// Control over OpenBLAS's thread pool (process-global).
///
/// prune never lets OpenBLAS partition a product by itself: the runtime and the fact engine run
/// single-threaded OpenBLAS calls on their own fixed work items (`BLASPin`), and the restraint's
/// linear algebra runs inside `deterministic`. So the count stays 1 unless a caller asks for more
/// with `set`; a scope never puts back OpenBLAS's start-up default (one thread per core), which
/// would race with a runtime pass running on another thread of the same process (a restraint and a
/// forward pass at once, as in the test suite) and make its bits depend on the timing.
public enum BLASThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var depth = 0
    /// The count outside `deterministic` scopes: 1 unless `set` asked for another.
    nonisolated(unsafe) private static var requested: Int32 = 1

    /// Runs `body` with OpenBLAS pinned to one thread, then restores the requested count.
    ///
    /// OpenBLAS's threaded kernels partition some reductions by thread count, so the same inputs
    /// can give different last bits with 1 and 2 threads (measured: σ_max differed at 1e-14).
    /// Everything the restraint engine returns (σ_max, factors, reports) is computed inside this
    /// scope, so outputs are byte-identical whatever the machine's or the caller's thread count.
    /// Nested and concurrent calls are counted; the requested count is restored by the last one out.
    public static func deterministic<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        if depth == 0 { openblas_set_num_threads(1) }
        depth += 1
        lock.unlock()
        defer {
            lock.lock()
            depth -= 1
            if depth == 0, requested != 1 { openblas_set_num_threads(requested) }
            lock.unlock()
        }
        return try body()
    }

    /// Sets the number of OpenBLAS threads for subsequent calls outside `deterministic` scopes.
    /// (Inside a scope the count stays 1 until the scope ends.)
    public static func set(_ count: Int) {
        lock.lock()
        defer { lock.unlock() }
        requested = Int32(max(1, count))
        if depth == 0 { openblas_set_num_threads(requested) }
    }
    /// The current number of OpenBLAS threads.
    public static var current: Int { Int(openblas_get_num_threads()) }
}
