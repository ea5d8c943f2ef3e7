import Foundation

/// An immutable hash map from byte strings to ids, looked up with a slice of a buffer (no
/// allocation per lookup): the whole-word table of `ignore_merges`, SentencePiece's pieces and
/// merge candidates.
struct ByteStringTable: Sendable {
    private let storage: [UInt8]
    private let starts: [Int]
    private let values: [Int32]
    private let slots: [Int32]
    private let mask: Int

    /// Entries in order; a repeated key keeps its first value.
    init(_ entries: [([UInt8], Int32)]) {
        var capacity = 16
        while capacity < entries.count * 2 + 1 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        var storage: [UInt8] = []
        var starts: [Int] = [0]
        var values: [Int32] = []
        let mask = capacity - 1
        for (key, value) in entries {
            var i = Int(truncatingIfNeeded: Self.hash(key)) & mask
            var duplicate = false
            while slots[i] >= 0 {
                let e = Int(slots[i])
                if storage[starts[e]..<starts[e + 1]].elementsEqual(key) { duplicate = true; break }
                i = (i + 1) & mask
            }
            if duplicate { continue }
            slots[i] = Int32(values.count)
            storage += key
            starts.append(storage.count)
            values.append(value)
        }
        self.storage = storage
        self.starts = starts
        self.values = values
        self.slots = slots
        self.mask = mask
    }

    @inline(__always)
    static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    func value(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int32? {
        let key = UnsafeBufferPointer(rebasing: b[r])
        var i = Int(truncatingIfNeeded: Self.hash(key)) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return nil }
            let s = starts[e], n = starts[e + 1] - s
            if n == key.count && (n == 0 || storage.withUnsafeBufferPointer({ memcmp($0.baseAddress! + s, key.baseAddress!, n) == 0 })) {
                return values[e]
            }
            i = (i + 1) & mask
        }
    }

    /// The value of a whole key.
    func value(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { value($0, 0..<$0.count) }
    }
}
