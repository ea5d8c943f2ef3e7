/// A binary min-heap of packed merge candidates `priority << 32 | position`: the lowest priority
/// first and, among equals, the leftmost position (the tie-break of both `tokenizers` and llama.cpp).
struct MergeHeap {
    private(set) var items: [UInt64] = []

    init() {}

    var isEmpty: Bool { items.isEmpty }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    @inline(__always)
    mutating func push(priority: UInt32, position: Int) {
        var i = items.count
        let v = UInt64(priority) << 32 | UInt64(UInt32(truncatingIfNeeded: position))
        items.append(v)
        while i > 0 {
            let parent = (i - 1) >> 1
            if items[parent] <= v { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = v
    }

    @inline(__always)
    mutating func pop() -> (priority: UInt32, position: Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                let r = l + 1
                let c = r < n && items[r] < items[l] ? r : l
                if items[c] >= last { break }
                items[i] = items[c]
                i = c
            }
            items[i] = last
        }
        return (UInt32(truncatingIfNeeded: top >> 32), Int(UInt32(truncatingIfNeeded: top)))
    }
}
