/// The symbols of one word while it is being merged: ids (or -1 for a symbol with no id), byte
/// extents in the word, and the doubly linked order. Reused across words to avoid allocations.
struct SymbolChain {
    var ids: [Int32] = []
    var starts: [Int32] = []
    var lengths: [Int32] = []
    var prev: [Int32] = []
    var next: [Int32] = []
    /// Set on symbols that have been merged into their left neighbour.
    var frozen: [Bool] = []
    var heap = MergeHeap()

    mutating func reset() {
        ids.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        frozen.removeAll(keepingCapacity: true)
        heap.removeAll()
    }

    mutating func append(id: Int32, start: Int, length: Int, frozen f: Bool = false) {
        let i = Int32(ids.count)
        if let last = next.indices.last { next[last] = i }
        ids.append(id)
        starts.append(Int32(start))
        lengths.append(Int32(length))
        prev.append(i - 1)
        next.append(-1)
        frozen.append(f)
    }

    var count: Int { ids.count }

    /// Merges symbol `pos` with its right neighbour into `id`.
    @inline(__always)
    mutating func merge(_ pos: Int, into id: Int32) {
        let nx = Int(next[pos])
        ids[pos] = id
        lengths[pos] += lengths[nx]
        lengths[nx] = 0
        let after = next[nx]
        next[pos] = after
        if after >= 0 { prev[Int(after)] = Int32(pos) }
    }
}
