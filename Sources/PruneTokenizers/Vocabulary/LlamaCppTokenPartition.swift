/// llama.cpp's `tokenizer_st_partition` with `parse_special`: every control, user-defined and
/// unknown token is cut out of the text, longest token first (over the whole text), each at its
/// leftmost occurrence in the remaining plain fragments, repeatedly.
struct LlamaCppTokenPartition: Sendable {
    /// (text, id, lstrip, rstrip), longest text first.
    private let tokens: [(text: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)]
    private let firstBytes: [Bool]

    init(_ list: [(text: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)]) {
        // llama.cpp sorts by length only (std::sort); among equal lengths we keep id order.
        tokens = list.filter { !$0.text.isEmpty }.enumerated().sorted {
            $0.element.text.count != $1.element.text.count ? $0.element.text.count > $1.element.text.count : $0.offset < $1.offset
        }.map(\.element)
        var f = [Bool](repeating: false, count: 256)
        for t in tokens { f[Int(t.text[0])] = true }
        firstBytes = f
    }

    var isEmpty: Bool { tokens.isEmpty }

    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [TextSegment] {
        guard !range.isEmpty else { return [] }
        var segments: [TextSegment] = [.text(range)]
        // Quick exit: no byte of the text can start a token.
        if !range.contains(where: { firstBytes[Int(bytes[$0])] }) { return segments }
        for t in tokens {
            var next: [TextSegment] = []
            next.reserveCapacity(segments.count)
            for seg in segments {
                guard case .text(let r) = seg else { next.append(seg); continue }
                var base = r
                while true {
                    guard let m = Self.find(t.text, bytes, base) else { next.append(.text(base)); break }
                    var leftEnd = m
                    if t.lstrip { while leftEnd > base.lowerBound && Self.isSpace(bytes[leftEnd - 1]) { leftEnd -= 1 } }
                    if leftEnd > base.lowerBound { next.append(.text(base.lowerBound..<leftEnd)) }
                    next.append(.token(t.id))
                    var rightStart = m + t.text.count
                    if rightStart >= base.upperBound { break }
                    if t.rstrip { while rightStart < base.upperBound && Self.isSpace(bytes[rightStart]) { rightStart += 1 } }
                    if rightStart >= base.upperBound { break }
                    base = rightStart..<base.upperBound
                }
            }
            segments = next
        }
        return segments
    }

    /// C `isspace` in the C locale.
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    private static func find(_ needle: [UInt8], _ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        let n = needle.count
        guard r.count >= n else { return nil }
        let first = needle[0]
        var i = r.lowerBound
        while i + n <= r.upperBound {
            if b[i] == first {
                var k = 1
                while k < n && b[i + k] == needle[k] { k += 1 }
                if k == n { return i }
            }
            i += 1
        }
        return nil
    }
}
