import Dispatch
import Foundation

/// `(0..<n).map(body)` on up to `threads` threads. Each result depends only on its index, and the
/// results come back in index order, so whatever reduces them does so in a fixed order.
package enum ParallelMap {
    final class Slots<T>: @unchecked Sendable {
        var values: [T?]
        let lock = NSLock()
        init(_ n: Int) { values = [T?](repeating: nil, count: n) }
        func set(_ i: Int, _ v: T) { lock.lock(); values[i] = v; lock.unlock() }
    }

    package static func map<T: Sendable>(_ n: Int, threads: Int, _ body: @Sendable (Int) throws -> T) rethrows -> [T] {
        let workers = max(1, min(threads, n))
        if workers == 1 { return try (0..<n).map(body) }
        let slots = Slots<Result<T, Error>>(n)
        withoutActuallyEscaping(body) { b in
            let box = UncheckedBox(b)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < n {
                    slots.set(i, Result { try box.value(i) })
                    i += workers
                }
            }
        }
        return try slots.values.map { try $0!.get() }
    }

    struct UncheckedBox<V>: @unchecked Sendable {
        let value: V
        init(_ v: V) { value = v }
    }
}
