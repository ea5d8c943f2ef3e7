import PruneFormats
/// Builds a new safetensors file: tensors are laid out in the order they are added, the header
/// lists `__metadata__` first and then the tensors sorted by name, and is padded with spaces to a
/// multiple of 8 bytes. The same calls always give the same bytes.
///
/// A tensor is given as bytes, or as a producer that writes its bytes in pieces when the file is
/// written (`write(to:)`): a large tensor (an m × m matrix of statistics) then goes to the file
/// without a second copy of it in memory.
public struct SafetensorsBuilder {
    /// Takes the next piece of a file's bytes.
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void
    /// Writes a tensor's bytes, in order, to the sink it is given.
    public typealias Producer = (Sink) throws -> Void

    public struct Entry {
        public var name: String
        public var dtype: SafetensorsDType
        public var shape: [Int]
        public var byteCount: Int
        let producer: Producer?
        let stored: [UInt8]

        /// The tensor's bytes (a produced tensor's, produced in full); a producer's error, or a count
        /// other than the declared one, is thrown.
        public func bytes() throws -> [UInt8] {
            guard producer != nil else { return stored }
            var out = [UInt8]()
            out.reserveCapacity(byteCount)
            try write { out.append(contentsOf: $0) }
            return out
        }

        /// Writes the bytes to `sink`; a producer that writes another count than it declared is refused.
        func write(to sink: Sink) throws {
            guard let producer else { return try stored.withUnsafeBytes { try sink($0) } }
            var written = 0
            try producer { piece in
                written += piece.count
                guard written <= byteCount else { throw SidecarError.builder("\(name): more than its \(byteCount) bytes produced") }
                try sink(piece)
            }
            guard written == byteCount else { throw SidecarError.builder("\(name): \(written) bytes produced, \(byteCount) declared") }
        }
    }

    public private(set) var metadata: [(key: String, value: String)] = []
    public private(set) var entries: [Entry] = []
    private var names = Set<String>()

    public init() {}

    /// Adds a `__metadata__` entry; keys keep the order in which they are added.
    public mutating func setMetadata(_ key: String, _ value: String) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor. Names must be unique and not `__metadata__`; the byte count must match
    /// the dtype and shape.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws {
        try check(name, dtype: dtype, shape: shape, byteCount: bytes.count)
        names.insert(name)
        entries.append(Entry(name: name, dtype: dtype, shape: shape, byteCount: bytes.count, producer: nil, stored: bytes))
    }

    /// Adds a tensor whose `byteCount` bytes `producer` writes when the file is written.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], byteCount: Int,
                             producer: @escaping Producer) throws {
        try check(name, dtype: dtype, shape: shape, byteCount: byteCount)
        names.insert(name)
        entries.append(Entry(name: name, dtype: dtype, shape: shape, byteCount: byteCount, producer: producer, stored: []))
    }

    /// Adds an f64 tensor written straight from `values` (pieces of its own memory, no copy).
    public mutating func add(_ name: String, f64Streamed values: [Double], shape: [Int]) throws {
        try add(name, dtype: .f64, shape: shape, byteCount: values.count * 8) { sink in
            #if _endian(little)
            try values.withUnsafeBytes { raw in
                var at = 0
                while at < raw.count {
                    let n = min(Self.piece, raw.count - at)
                    try sink(UnsafeRawBufferPointer(rebasing: raw[at ..< at + n]))
                    at += n
                }
            }
            #else
            try Self.pieces(count: values.count, width: 8, sink: sink) { i, p in
                p.storeBytes(of: values[i].bitPattern.littleEndian, as: UInt64.self)
            }
            #endif
        }
    }

    /// The size of the pieces producers here write (4 MiB).
    public static let piece = 1 << 22

    /// Writes `count` values of `width` bytes each through a reused buffer of `piece` bytes:
    /// `store(i, p)` writes value i at p.
    public static func pieces(count: Int, width: Int, sink: Sink,
                              store: (Int, UnsafeMutableRawPointer) -> Void) throws {
        let per = max(1, piece / width)
        var buffer = [UInt8](repeating: 0, count: min(count, per) * width)
        var i = 0
        while i < count {
            let n = min(per, count - i)
            try buffer.withUnsafeMutableBytes { b in
                for k in 0..<n { store(i + k, b.baseAddress! + k * width) }
                try sink(UnsafeRawBufferPointer(rebasing: b[0 ..< n * width]))
            }
            i += n
        }
    }

    private func check(_ name: String, dtype: SafetensorsDType, shape: [Int], byteCount: Int) throws {
        guard name != "__metadata__", !names.contains(name) else {
            throw SidecarError.builder("duplicate or reserved tensor name \(name)")
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !o else { throw SidecarError.builder("bad shape \(shape) for \(name)") }
            count = p
        }
        guard dtype.byteCount(forElements: count) == byteCount else {
            throw SidecarError.builder("\(name): \(byteCount) bytes do not fit \(dtype.rawValue) \(shape)")
        }
    }

    public mutating func add(_ name: String, f32 values: [Float], shape: [Int]) throws {
        try add(name, dtype: .f32, shape: shape, bytes: Self.littleEndianBytes(values.map(\.bitPattern)))
    }

    public mutating func add(_ name: String, f64 values: [Double], shape: [Int]) throws {
        try add(name, dtype: .f64, shape: shape, bytes: Self.littleEndianBytes(values.map(\.bitPattern)))
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        #if _endian(little)
        return values.withUnsafeBytes { Array($0) }
        #else
        return values.map(\.littleEndian).withUnsafeBytes { Array($0) }
        #endif
    }

    /// The header JSON (unpadded).
    func headerJSON() -> [UInt8] {
        var s = "{"
        var first = true
        if !metadata.isEmpty {
            s += "\"__metadata__\":{"
            s += metadata.map { JSONText.quote($0.key) + ":" + JSONText.quote($0.value) }.joined(separator: ",")
            s += "}"
            first = false
        }
        var offsets: [String: (Int, Int)] = [:]
        var at = 0
        for e in entries {
            offsets[e.name] = (at, at + e.byteCount)
            at += e.byteCount
        }
        for e in entries.sorted(by: { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }) {
            if !first { s += "," }
            first = false
            let (a, b) = offsets[e.name] ?? (0, 0)
            s += JSONText.quote(e.name) + ":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":["
            s += e.shape.map(String.init).joined(separator: ",")
            s += "],\"data_offsets\":[\(a),\(b)]}"
        }
        s += "}"
        return Array(s.utf8)
    }

    /// The complete file.
    public func build() throws -> [UInt8] {
        let header = paddedHeader()
        var out = [UInt8]()
        out.reserveCapacity(entries.reduce(8 + header.count) { $0 + $1.byteCount })
        try write(header: header) { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the file to `sink` in pieces: the length and header, then each tensor's bytes.
    public func write(to sink: Sink) throws {
        try write(header: paddedHeader(), to: sink)
    }

    /// The header JSON padded with spaces to a multiple of 8 bytes.
    private func paddedHeader() -> [UInt8] {
        var header = headerJSON()
        while header.count % 8 != 0 { header.append(0x20) }
        return header
    }

    private func write(header: [UInt8], to sink: Sink) throws {
        try withUnsafeBytes(of: UInt64(header.count).littleEndian) { try sink($0) }
        try header.withUnsafeBytes { try sink($0) }
        for e in entries { try e.write(to: sink) }
    }
}
