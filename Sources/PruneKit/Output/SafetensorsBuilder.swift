import PruneFormats
/// Builds a new safetensors file in memory: tensors are laid out in the order they are added,
/// the header lists `__metadata__` first and then the tensors sorted by name, and is padded with
/// spaces to a multiple of 8 bytes. The same calls always give the same bytes.
public struct SafetensorsBuilder {
    public struct Entry {
        public var name: String
        public var dtype: SafetensorsDType
        public var shape: [Int]
        public var bytes: [UInt8]
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
        guard name != "__metadata__", !names.contains(name) else {
            throw SidecarError.builder("duplicate or reserved tensor name \(name)")
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !o else { throw SidecarError.builder("bad shape \(shape) for \(name)") }
            count = p
        }
        guard dtype.byteCount(forElements: count) == bytes.count else {
            throw SidecarError.builder("\(name): \(bytes.count) bytes do not fit \(dtype.rawValue) \(shape)")
        }
        names.insert(name)
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
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
            offsets[e.name] = (at, at + e.bytes.count)
            at += e.bytes.count
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
    public func build() -> [UInt8] {
        var header = headerJSON()
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        let total = entries.reduce(8 + header.count) { $0 + $1.bytes.count }
        out.reserveCapacity(total)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for e in entries { out.append(contentsOf: e.bytes) }
        return out
    }
}
