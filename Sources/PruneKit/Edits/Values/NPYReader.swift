import PruneFormats
/// A strict reader of NumPy `.npy` files (format versions 1.0, 2.0 and 3.0) holding a 1-D or 2-D
/// float array: dtypes `f2`, `f4`, `f8` in either byte order, C or Fortran order.
/// Anything else — other dtypes, object arrays, a header that is not the dict numpy writes,
/// a data size that does not match the shape, trailing bytes — is an error.
enum NPYReader {
    struct Failure: Error, Sendable { var reason: String }

    static func read(_ bytes: [UInt8]) throws(Failure) -> EditMatrix {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw Failure(reason: "not a .npy file (bad magic)") }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw Failure(reason: "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw Failure(reason: "unsupported format version \(major).\(minor)")
        }
        guard minor == 0 else { throw Failure(reason: "unsupported format version \(major).\(minor)") }
        let (dataStart, overflow) = headerStart.addingReportingOverflow(headerLength)
        guard !overflow, dataStart <= bytes.count else { throw Failure(reason: "header length \(headerLength) runs past the end of the file") }
        let headerBytes = Array(bytes[headerStart..<dataStart])
        // Versions 1 and 2 use latin-1 headers; 3 uses UTF-8. The dict numpy writes is ASCII anyway.
        guard major == 3 || headerBytes.allSatisfy({ $0 < 0x80 }) else { throw Failure(reason: "non-ASCII header") }
        let header = try parseHeader(headerBytes)

        let count = try elementCount(header.shape)
        let (byteCount, o2) = count.multipliedReportingOverflow(by: header.itemSize)
        guard !o2 else { throw Failure(reason: "shape \(header.shape) is too large") }
        let available = bytes.count - dataStart
        guard available == byteCount else {
            throw Failure(reason: "data holds \(available) bytes, shape \(shapeText(header.shape)) of \(header.descr) needs \(byteCount)")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = dataStart + i * header.itemSize
            var raw: UInt64 = 0
            for k in 0..<header.itemSize {
                let b = UInt64(bytes[o + (header.littleEndian ? k : header.itemSize - 1 - k)])
                raw |= b << (8 * UInt64(k))
            }
            switch header.itemSize {
            case 2: values[i] = halfToFloat(UInt16(truncatingIfNeeded: raw))
            case 4: values[i] = Float(bitPattern: UInt32(truncatingIfNeeded: raw))
            default: values[i] = Float(Double(bitPattern: raw))
            }
        }
        var matrix = EditMatrix(shape: header.shape, values: values)
        if header.fortranOrder, header.shape.count == 2 {
            // Column-major data: it is the row-major storage of the transpose.
            matrix = EditMatrix(shape: [header.shape[1], header.shape[0]], values: values).transposed()
        }
        return matrix
    }

    private struct Header { var descr: String; var itemSize: Int; var littleEndian: Bool; var fortranOrder: Bool; var shape: [Int] }

    private static func shapeText(_ s: [Int]) -> String { "(" + s.map(String.init).joined(separator: ", ") + (s.count == 1 ? ",)" : ")") }

    private static func elementCount(_ shape: [Int]) throws(Failure) -> Int {
        guard shape.count == 1 || shape.count == 2 else { throw Failure(reason: "shape \(shapeText(shape)) is not a vector or a matrix") }
        var n = 1
        for d in shape {
            guard d > 0 else { throw Failure(reason: "shape \(shapeText(shape)) has an empty dimension") }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw Failure(reason: "shape \(shapeText(shape)) is too large") }
            n = p
        }
        return n
    }

    /// Parses the Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
    /// followed by space padding and a newline.
    private static func parseHeader(_ h: [UInt8]) throws(Failure) -> Header {
        var p = 0
        func skip() { while p < h.count, h[p] == 0x20 || h[p] == 0x09 { p += 1 } }
        func expect(_ c: UInt8) throws(Failure) {
            skip()
            guard p < h.count, h[p] == c else { throw Failure(reason: "malformed header: expected '\(Character(UnicodeScalar(c)))' at header byte \(p)") }
            p += 1
        }
        func pyString() throws(Failure) -> String {
            skip()
            guard p < h.count, h[p] == 0x27 || h[p] == 0x22 else { throw Failure(reason: "malformed header: expected a string at header byte \(p)") }
            let q = h[p]; p += 1
            let s = p
            while p < h.count, h[p] != q { guard h[p] != 0x5C else { throw Failure(reason: "malformed header: escapes are not supported") }; p += 1 }
            guard p < h.count else { throw Failure(reason: "malformed header: unterminated string") }
            defer { p += 1 }
            return String(decoding: h[s..<p], as: UTF8.self)
        }
        func word() -> String {
            skip()
            let s = p
            while p < h.count, (0x41...0x5A).contains(h[p]) || (0x61...0x7A).contains(h[p]) { p += 1 }
            return String(decoding: h[s..<p], as: UTF8.self)
        }
        func integer() throws(Failure) -> Int {
            skip()
            let s = p
            while p < h.count, (0x30...0x39).contains(h[p]) { p += 1 }
            guard p > s, p - s <= 18, let v = Int(String(decoding: h[s..<p], as: UTF8.self)) else { throw Failure(reason: "malformed header: bad dimension at header byte \(s)") }
            if p < h.count, h[p] == 0x4C { p += 1 }   // Python 2 long suffix
            return v
        }

        var descr: String?, fortran: Bool?, shape: [Int]?
        try expect(0x7B)   // {
        while true {
            skip()
            if p < h.count, h[p] == 0x7D { p += 1; break }   // }
            let key = try pyString()
            try expect(0x3A)   // :
            switch key {
            case "descr":
                guard descr == nil else { throw Failure(reason: "duplicate key 'descr' in the header") }
                descr = try pyString()
            case "fortran_order":
                guard fortran == nil else { throw Failure(reason: "duplicate key 'fortran_order' in the header") }
                switch word() {
                case "True": fortran = true
                case "False": fortran = false
                default: throw Failure(reason: "malformed header: fortran_order must be True or False")
                }
            case "shape":
                guard shape == nil else { throw Failure(reason: "duplicate key 'shape' in the header") }
                try expect(0x28)   // (
                var dims: [Int] = []
                while true {
                    skip()
                    if p < h.count, h[p] == 0x29 { p += 1; break }   // )
                    dims.append(try integer())
                    skip()
                    if p < h.count, h[p] == 0x2C { p += 1; continue }
                    try expect(0x29)
                    break
                }
                shape = dims
            default:
                throw Failure(reason: "unexpected header key '\(key)'")
            }
            skip()
            if p < h.count, h[p] == 0x2C { p += 1; continue }
            try expect(0x7D)
            break
        }
        while p < h.count, h[p] == 0x20 || h[p] == 0x0A || h[p] == 0x00 { p += 1 }
        guard p == h.count else { throw Failure(reason: "malformed header: unexpected text after the dict") }
        guard let d = descr, let f = fortran, let s = shape else { throw Failure(reason: "header lacks 'descr', 'fortran_order' or 'shape'") }

        let scalar = Array(d.utf8)
        guard scalar.count == 3, scalar[1] == UInt8(ascii: "f") else { throw Failure(reason: "unsupported dtype '\(d)' (expected f2, f4 or f8)") }
        let little: Bool
        switch scalar[0] {
        case UInt8(ascii: "<"), UInt8(ascii: "|"): little = true
        case UInt8(ascii: ">"): little = false
        case UInt8(ascii: "="): little = true   // native order; prune runs on little-endian hosts
        default: throw Failure(reason: "unsupported dtype '\(d)'")
        }
        let size: Int
        switch scalar[2] {
        case UInt8(ascii: "2"): size = 2
        case UInt8(ascii: "4"): size = 4
        case UInt8(ascii: "8"): size = 8
        default: throw Failure(reason: "unsupported dtype '\(d)' (expected f2, f4 or f8)")
        }
        return Header(descr: d, itemSize: size, littleEndian: little, fortranOrder: f, shape: s)
    }
}
