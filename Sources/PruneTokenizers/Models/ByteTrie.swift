/// A byte trie for longest-prefix matching of a small set of strings (user-defined pieces,
/// added tokens).
struct ByteTrie: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var value: Int32 = -1
    }
    private var nodes: [Node] = [Node()]
    /// Bytes that can start a match (a fast filter for scanning).
    private(set) var firstBytes = [Bool](repeating: false, count: 256)

    init(_ entries: [([UInt8], Int32)]) {
        for (key, value) in entries where !key.isEmpty {
            var n = 0
            for b in key {
                if let c = nodes[n].children[b] {
                    n = Int(c)
                } else {
                    nodes.append(Node())
                    let c = nodes.count - 1
                    nodes[n].children[b] = Int32(c)
                    n = c
                }
            }
            if nodes[n].value < 0 { nodes[n].value = value }
            firstBytes[Int(key[0])] = true
        }
    }

    /// The longest key that starts at `from`: its length and value.
    @inline(__always)
    func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> (length: Int, value: Int32)? {
        guard firstBytes[Int(bytes[from])] else { return nil }
        var n = 0
        var best: (Int, Int32)? = nil
        var i = from
        while i < end, let c = nodes[n].children[bytes[i]] {
            n = Int(c)
            i += 1
            if nodes[n].value >= 0 { best = (i - from, nodes[n].value) }
        }
        return best
    }
}
