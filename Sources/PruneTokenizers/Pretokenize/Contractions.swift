/// The contraction alternatives `'s|'t|'re|'ve|'m|'ll|'d` at an apostrophe.
enum Contractions {
    /// End of the contraction that starts at `i` (an apostrophe), or nil.
    @inline(__always)
    static func match(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ n: Int, _ fold: Bool) -> Int? {
        guard i + 1 < n else { return nil }
        let a = lower(s[i + 1], fold)
        if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return i + 2 }   // s t m d
        guard i + 2 < n else { return nil }
        let b = lower(s[i + 2], fold)
        if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return i + 3 }   // re ve ll
        return nil
    }

    @inline(__always)
    static func lower(_ v: UInt32, _ fold: Bool) -> UInt32 {
        fold && v >= 0x41 && v <= 0x5A ? v + 0x20 : v
    }
}
