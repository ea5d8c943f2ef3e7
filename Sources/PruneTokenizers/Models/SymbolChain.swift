/// The symbols of one word while it is being merged: id (or -1 for a symbol with no id), byte
/// extent in the word, and the doubly linked order. One array of small structs, reused across
/// the words of a text to avoid allocations.
struct SymbolChain {
    struct Symbol {
        var id: Int32
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
        /// A user-defined piece: never merged.
        var frozen: Bool
    }

    var symbols: [Symbol] = []
    var heap = MergeHeap()

    init() {}

    mutating func reset() {
        symbols.removeAll(keepingCapacity: true)
        heap.removeAll()
    }

    @inline(__always)
    mutating func append(id: Int32, start: Int, length: Int, frozen: Bool = false) {
        let i = Int32(symbols.count)
        if i > 0 { symbols[Int(i) - 1].next = i }
        symbols.append(Symbol(id: id, start: Int32(start), length: Int32(length), prev: i - 1, next: -1, frozen: frozen))
    }

    var count: Int { symbols.count }

    /// Merges symbol `pos` with its right neighbour into `id`.
    @inline(__always)
    mutating func merge(_ pos: Int, into id: Int32) {
        let nx = Int(symbols[pos].next)
        let after = symbols[nx].next
        symbols[pos].id = id
        symbols[pos].length += symbols[nx].length
        symbols[pos].next = after
        symbols[nx].length = 0
        if after >= 0 { symbols[Int(after)].prev = Int32(pos) }
    }
}
