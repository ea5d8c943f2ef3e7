/// The ids of single-scalar pieces: a flat table for the Basic Multilingual Plane, a dictionary above.
struct ScalarIDTable: Sendable {
    private let bmp: [Int32]
    private let astral: [UInt32: Int32]
    let isEmpty: Bool

    init(_ ids: [UInt32: Int32]) {
        var t = [Int32](repeating: -1, count: ids.isEmpty ? 0 : 0x10000)
        var a: [UInt32: Int32] = [:]
        for (v, id) in ids {
            if v < 0x10000 { t[Int(v)] = id } else { a[v] = id }
        }
        bmp = t
        astral = a
        isEmpty = ids.isEmpty
    }

    @inline(__always)
    subscript(v: UInt32) -> Int32? {
        if v < 0x10000 {
            guard !bmp.isEmpty else { return nil }
            let id = bmp[Int(v)]
            return id >= 0 ? id : nil
        }
        return astral[v]
    }
}
