import CPruneCPU
import Dispatch
import Foundation
import Synchronization

/// Runs independent work items on a fixed number of threads.
///
/// Determinism comes from the items, not from the scheduling: callers split work into items fixed
/// by the problem (row blocks, (sequence, head) pairs), each item writes its own memory with a
/// single-threaded kernel, so the result is the same bits for any thread count.
///
/// The threads are a `SpinPool`: helpers that poll for the next job for a while before they sleep,
/// so that the hundreds of short parallel sections of one generated token do not each wait for a
/// thread to wake (tens of microseconds each on a virtual machine). A section started while the
/// pool is busy (from inside a section, or from another thread) runs on `concurrentPerform`.
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
        withoutActuallyEscaping(body) { body in
            if SpinPool.shared.run(count: count, workers: workers, body) { return }
            let next = Counter()
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

/// Persistent helper threads for `Parallel.forEach`. One job at a time: the caller is worker 0 and
/// helpers 1…workers−1 take items from a shared counter. A job is published by one atomic word
/// (generation << 8 | helpers taking part); helpers poll it for about `spinRounds` pauses, then
/// sleep on a condition that every publication broadcasts.
final class SpinPool: @unchecked Sendable {
    static let shared = SpinPool()
    /// Helpers at most (workers beyond run on `concurrentPerform`).
    static let maxHelpers = 255
    /// Polls before a helper sleeps (about 100 µs of PAUSE on current x86 cores).
    static let spinRounds = 4000

    private let busy = Atomic<Bool>(false)
    private let word = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let condition = NSCondition()
    private var helpers = 0
    // The job: written before the word is published, read by the helpers taking part (the job
    // cannot end, nor the next begin, until each of them has finished with it).
    private var count = 0
    private var body: ((Int, Int) -> Void)?

    /// Runs the job on the pool and returns true, or returns false at once when the pool is busy.
    func run(count: Int, workers: Int, _ body: @escaping (Int, Int) -> Void) -> Bool {
        guard workers - 1 <= Self.maxHelpers,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        let current = word.load(ordering: .relaxed) >> 8
        while helpers < workers - 1 { spawn(helpers, seen: current); helpers += 1 }
        self.count = count
        self.body = body
        next.store(0, ordering: .relaxed)
        pending.store(workers - 1, ordering: .relaxed)
        word.store((current + 1) << 8 | (workers - 1), ordering: .releasing)
        condition.lock()
        condition.broadcast()
        condition.unlock()
        work(0)
        while pending.load(ordering: .acquiring) > 0 { prune_cpu_relax() }
        self.body = nil
        return true
    }

    private func work(_ worker: Int) {
        let body = self.body!
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { break }
            body(i, worker)
        }
    }

    /// A helper that has seen generation `seen` (the current one: it takes part from the next).
    private func spawn(_ index: Int, seen: Int) {
        let thread = Thread { [self] in helperLoop(index, seen: seen) }
        thread.stackSize = 8 << 20
        thread.name = "prune-worker-\(index + 1)"
        thread.start()
    }

    private func helperLoop(_ index: Int, seen start: Int) {
        var seen = start
        while true {
            var w = word.load(ordering: .acquiring)
            var spins = 0
            while w >> 8 == seen {
                spins += 1
                if spins < Self.spinRounds {
                    prune_cpu_relax()
                } else {
                    condition.lock()
                    while word.load(ordering: .acquiring) >> 8 == seen { condition.wait() }
                    condition.unlock()
                }
                w = word.load(ordering: .acquiring)
            }
            seen = w >> 8
            if index < w & 0xff {
                work(index + 1)
                pending.subtract(1, ordering: .releasing)
            }
        }
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
