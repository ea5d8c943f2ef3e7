import Dispatch
import Synchronization

/// Runs independent work items on a fixed number of threads.
///
/// Determinism comes from the items, not from the scheduling: callers split work into items fixed
/// by the problem (row blocks, (sequence, head) pairs), each item writes its own memory with a
/// single-threaded kernel, so the result is the same bits for any thread count.
package enum Parallel {
    /// Calls `body(item, worker)` once for every item in 0..<count; `worker` < min(threads, count)
    /// identifies the calling thread's scratch.
    package static func forEach(count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(max(1, threads), count)
        if workers == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        let next = Counter()
        withoutActuallyEscaping(body) { body in
            let box = Unchecked(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                while true {
                    let i = next.take()
                    if i >= count { break }
                    box.value(i, w)
                }
            }
        }
    }

    private final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    }
}

/// Carries a value into concurrent iterations that touch disjoint memory.
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Per-thread scratch buffers of f32, reused across the kernels of one forward.
package final class Workspace: @unchecked Sendable {
    package let threads: Int
    /// What the linear layers multiply stored weights with (`.f32` unless the model asks for `.q8`).
    package let activations: ActivationPrecision
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0

    package init(threads: Int, activations: ActivationPrecision = .f32) {
        self.threads = max(1, threads)
        self.activations = activations
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Makes every worker's buffer hold at least `floats` values (call between parallel sections).
    package func reserve(_ floats: Int) {
        guard floats > capacity else { return }
        for b in buffers { b.deallocate() }
        capacity = max(floats, capacity * 2)
        buffers = (0..<threads).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            p.initialize(repeating: 0, count: capacity)
            return p
        }
    }

    package func buffer(_ worker: Int) -> UnsafeMutablePointer<Float> { buffers[worker] }
}
