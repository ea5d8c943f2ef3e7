import Foundation

/// A hash map from byte strings to ids, looked up with a slice of a buffer (no allocation per
/// lookup or insert): the keys live end to end in one byte array, the slots are open addressing
/// with linear probing. The whole-word table of `ignore_merges`, SentencePiece's pieces and merge
/// candidates, and `PieceIndex` (a vocabulary's piece → id).
struct ByteStringTable: Sendable {
    private var storage: [UInt8] = []
    private var starts: [Int] = [0]
    private var values: [Int32] = []
    private var slots: [Int32]
    private var mask: Int

    /// Keys held.
    var count: Int { values.count }

    init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity < minimumCapacity * 2 + 1 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        values.reserveCapacity(minimumCapacity)
        starts.reserveCapacity(minimumCapacity + 1)
    }

    /// Entries in order; a repeated key keeps its first value.
    init(_ entries: [([UInt8], Int32)]) {
        self.init(minimumCapacity: entries.count)
        for (key, value) in entries {
            key.withUnsafeBufferPointer { insert($0, value, replacing: false) }
        }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    /// The slot of `key`: its entry (≥ 0) or the empty slot where it would go (entry -1).
    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>) -> (slot: Int, entry: Int) {
        var i = Int(truncatingIfNeeded: Self.hash(key)) & mask
        return storage.withUnsafeBufferPointer { st in
            while true {
                let e = Int(slots[i])
                if e < 0 { return (i, -1) }
                let s = starts[e], n = starts[e + 1] - s
                if n == key.count && (n == 0 || memcmp(st.baseAddress! + s, key.baseAddress!, n) == 0) { return (i, e) }
                i = (i + 1) & mask
            }
        }
    }

    func value(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int32? {
        let e = find(UnsafeBufferPointer(rebasing: b[r])).entry
        return e < 0 ? nil : values[e]
    }

    /// The value of a whole key.
    func value(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { value($0, 0..<$0.count) }
    }

    /// Adds `key` → `value`; an existing key keeps its value unless `replacing`.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ value: Int32, replacing: Bool) {
        let (slot, e) = find(key)
        if e >= 0 {
            if replacing { values[e] = value }
            return
        }
        slots[slot] = Int32(values.count)
        storage.append(contentsOf: key)
        starts.append(storage.count)
        values.append(value)
        if values.count * 2 > slots.count { grow() }
    }

    /// Twice the slots, every key placed again.
    private mutating func grow() {
        let capacity = slots.count * 2
        var fresh = [Int32](repeating: -1, count: capacity)
        let m = capacity - 1
        storage.withUnsafeBufferPointer { st in
            for e in 0..<values.count {
                let key = UnsafeBufferPointer(rebasing: st[starts[e]..<starts[e + 1]])
                var i = Int(truncatingIfNeeded: Self.hash(key)) & m
                while fresh[i] >= 0 { i = (i + 1) & m }
                fresh[i] = Int32(e)
            }
        }
        slots = fresh
        mask = m
    }
}
