import Foundation
import Testing
@testable import PruneRuntime

/// `Parallel.forEach` on the spin pool: every item runs exactly once, with a worker id below
/// min(threads, count), for item and thread counts around the pool's edges; after the helpers have
/// gone to sleep; for sections nested inside a section and sections started from several threads at
/// once (the pool busy: those run on `concurrentPerform`).
@Suite struct ParallelTests {
    /// One slot per item (items write disjoint memory, as the runtime's do).
    final class Slots: @unchecked Sendable {
        let hits: UnsafeMutablePointer<Int>
        let workers: UnsafeMutablePointer<Int>
        let count: Int
        init(_ count: Int) {
            self.count = count
            hits = .allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            workers = .allocate(capacity: count)
            workers.initialize(repeating: -1, count: count)
        }
        deinit { hits.deallocate(); workers.deallocate() }
        func record(_ i: Int, _ w: Int) { hits[i] += 1; workers[i] = w }
        var eachOnce: Bool { (0..<count).allSatisfy { hits[$0] == 1 } }
        func maxWorker() -> Int { (0..<count).map { workers[$0] }.max() ?? -1 }
    }

    @Test func everyItemOnceWithAValidWorker() {
        for threads in [1, 2, 3, 8] {
            for count in [1, 2, 3, 7, 64, 1000] {
                let s = Slots(count)
                Parallel.forEach(count: count, threads: threads) { i, w in s.record(i, w) }
                #expect(s.eachOnce, "threads \(threads), count \(count): an item ran other than once")
                #expect(s.maxWorker() < min(threads, count), "threads \(threads), count \(count): worker id \(s.maxWorker())")
            }
        }
    }

    @Test func sectionsAfterTheHelpersSleep() {
        for round in 0..<4 {
            usleep(5000)   // longer than the helpers poll
            let s = Slots(300)
            Parallel.forEach(count: 300, threads: 2) { i, w in s.record(i, w) }
            #expect(s.eachOnce, "round \(round)")
        }
        // Many short sections in a row (the generation pattern).
        for round in 0..<2000 {
            let s = Slots(5)
            Parallel.forEach(count: 5, threads: 2) { i, w in s.record(i, w) }
            if !s.eachOnce { Issue.record("short section \(round)"); break }
        }
    }

    @Test func nestedSections() {
        let inner = 50, outer = 8
        let s = Slots(inner * outer)
        Parallel.forEach(count: outer, threads: 2) { o, _ in
            Parallel.forEach(count: inner, threads: 2) { i, w in s.record(o * inner + i, w) }
        }
        #expect(s.eachOnce)
    }

    @Test func sectionsFromSeveralThreads() {
        let callers = 4, rounds = 20, count = 500
        let all = (0..<callers).map { _ in Slots(count * rounds) }
        let box = all
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for r in 0..<rounds {
                Parallel.forEach(count: count, threads: 2) { i, w in box[c].record(r * count + i, w) }
            }
        }
        for (c, s) in all.enumerated() { #expect(s.eachOnce, "caller \(c)") }
    }
}
