/// Parses and validates a GGUF header (v2/v3) from a stream positioned at byte 0, leaving the stream
/// at the start of the data section. Checks follow ggml's gguf.cpp `gguf_init_from_file_impl`,
/// plus explicit caps on string and array lengths and on array nesting.
public enum GGUFParser {
    public static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    public static let maxDimensions: UInt32 = 4
    /// ggml's GGML_MAX_NAME: names must be shorter.
    public static let maxNameLength = 64
    public static let maxStringLength: UInt64 = 1 << 30
    public static let maxArrayCount: UInt64 = 1 << 31
    public static let maxNesting = 4
    public static let maxTensors: UInt64 = 1 << 24
    public static let maxKeyValues: UInt64 = 1 << 24

    package static func pad(_ x: Int, _ alignment: Int) -> Int {
        let r = x % alignment
        if r == 0 { return x }
        let (v, o) = x.addingReportingOverflow(alignment - r)
        return o ? Int.max : v   // saturate: callers then fail their own overflow checks
    }

    public static func parseHeader(_ stream: ByteStream) throws -> GGUFHeader {
        let p = stream.name
        let magic = try stream.read(4, what: "the GGUF magic")
        guard magic == Array("GGUF".utf8) else { throw GGUFError.badMagic(path: p) }
        let version = try stream.readUInt32(what: "the GGUF version")
        if version & 0x0000_FFFF == 0 && version != 0 { throw GGUFError.bigEndian(path: p) }
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(path: p, version: version) }

        var at = stream.position
        let nTensors = try stream.readUInt64(what: "the tensor count")
        guard nTensors <= maxTensors else {
            throw GGUFError.countTooLarge(path: p, what: "tensor", count: nTensors, offset: at)
        }
        try checkFits(stream, nTensors, 24, what: "tensor count \(nTensors)", at: at)
        at = stream.position
        let nKV = try stream.readUInt64(what: "the key/value count")
        guard nKV <= maxKeyValues else {
            throw GGUFError.countTooLarge(path: p, what: "key/value", count: nKV, offset: at)
        }
        try checkFits(stream, nKV, 12, what: "key/value count \(nKV)", at: at)

        var kvs: [GGUFKeyValue] = []
        var keys = Set<String>()
        for i in 0..<Int(nKV) {
            let keyAt = stream.position
            let key = try readString(stream, what: "key \(i)")
            if !keys.insert(key).inserted { throw GGUFError.duplicateKey(path: p, key: key, offset: keyAt) }
            let typeAt = stream.position
            let rawType = try stream.readUInt32(what: "the value type of key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.invalidValueType(path: p, key: key, type: rawType, offset: typeAt)
            }
            let value = try readValue(stream, type: type, key: key, depth: 0)
            kvs.append(GGUFKeyValue(key: key, value: value))
        }

        var alignment = defaultAlignment
        if let a = kvs.first(where: { $0.key == "general.alignment" })?.value {
            guard case .uint32(let v) = a else {
                throw GGUFError.invalidAlignment(path: p, detail: "type \(a.type), expected UINT32")
            }
            guard v != 0, v & (v - 1) == 0 else {
                throw GGUFError.invalidAlignment(path: p, detail: "\(v) is not a power of two")
            }
            alignment = Int(v)
        }

        var infos: [(name: String, type: GGMLType, ne: [Int], offset: UInt64, nbytes: Int)] = []
        var names = Set<String>()
        for i in 0..<Int(nTensors) {
            let nameAt = stream.position
            let name = try readString(stream, what: "the name of tensor \(i)")
            if name.utf8.count >= maxNameLength { throw GGUFError.nameTooLong(path: p, tensor: name, offset: nameAt) }
            if !names.insert(name).inserted { throw GGUFError.duplicateTensor(path: p, tensor: name, offset: nameAt) }
            let nDims = try stream.readUInt32(what: "n_dims of tensor '\(name)'")
            guard nDims <= maxDimensions else { throw GGUFError.tooManyDimensions(path: p, tensor: name, nDims: nDims) }
            var ne: [Int] = []
            var count = 1
            var nonZero = 1   // product ignoring zero dims: every partial product must fit as well
            var overflow = false
            for d in 0..<Int(nDims) {
                let raw = Int64(bitPattern: try stream.readUInt64(what: "ne[\(d)] of tensor '\(name)'"))
                if raw < 0 { throw GGUFError.negativeDimension(path: p, tensor: name, dim: d, value: raw) }
                ne.append(Int(raw))
                let (c, o) = count.multipliedReportingOverflow(by: Int(raw))
                let (z, o2) = nonZero.multipliedReportingOverflow(by: max(Int(raw), 1))
                overflow = overflow || o || o2
                count = c
                nonZero = z
            }
            if overflow { throw GGUFError.elementCountOverflow(path: p, tensor: name) }
            let rawType = try stream.readUInt32(what: "the type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError.unknownType(path: p, tensor: name, type: rawType)
            }
            let ne0 = ne.first ?? 1
            guard ne0 % type.blockSize == 0 else {
                throw GGUFError.notBlockMultiple(path: p, tensor: name, ne0: ne0, type: type.description, blockSize: type.blockSize)
            }
            guard let nbytes = type.byteCount(forValues: count) else {
                throw GGUFError.elementCountOverflow(path: p, tensor: name)
            }
            let offset = try stream.readUInt64(what: "the data offset of tensor '\(name)'")
            infos.append((name, type, ne, offset, nbytes))
        }

        // Padding to the data section: part of the header bytes.
        let headerEnd = stream.position
        let dataStart = pad(headerEnd, alignment)
        if infos.isEmpty {
            _ = try stream.readRest(limit: dataStart - headerEnd) { _ in }
        } else {
            _ = try stream.read(dataStart - headerEnd, what: "the padding before the tensor data")
        }

        // Offsets: exactly where the previous tensors end, each padded to the alignment.
        var tensors: [TensorInfo] = []
        var expected = 0
        for info in infos {
            guard info.offset == UInt64(expected) else {
                throw GGUFError.misplacedOffset(path: p, tensor: info.name, offset: info.offset, expected: expected)
            }
            tensors.append(TensorInfo(name: info.name, type: .ggml(info.type), shape: info.ne, offset: expected, byteCount: info.nbytes))
            let padded = pad(info.nbytes, alignment)
            let (next, o) = expected.addingReportingOverflow(padded)
            let (_, o2) = dataStart.addingReportingOverflow(next)
            if o || o2 || padded < info.nbytes { throw GGUFError.dataOverflow(path: p, tensor: info.name) }
            expected = next
        }
        let header = GGUFHeader(version: version, keyValues: kvs, tensors: tensors, alignment: alignment, dataStart: dataStart)
        if let size = stream.knownLength, let last = tensors.last {
            let (end, o) = dataStart.addingReportingOverflow(header.dataLength)
            if o || end > size {
                throw GGUFError.dataTruncated(path: p, tensor: last.name, end: o ? Int.max : end, fileSize: size)
            }
            let paddedEnd = dataStart + header.paddedDataLength
            if size > paddedEnd {
                throw GGUFError.trailingBytes(path: p, offset: paddedEnd, extra: String(size - paddedEnd))
            }
        }
        return header
    }

    /// With a known file size, `count` items of at least `minSize` bytes must fit in what is left.
    private static func checkFits(_ stream: ByteStream, _ count: UInt64, _ minSize: UInt64, what: @autoclosure () -> String, at: Int) throws {
        guard let size = stream.knownLength else { return }
        let left = UInt64(max(0, size - stream.position))
        let (need, o) = count.multipliedReportingOverflow(by: minSize)
        if o || need > left { throw GGUFError.pastEnd(path: stream.name, what: what(), fileSize: size, offset: at) }
    }

    package static func readString(_ stream: ByteStream, what: @autoclosure () -> String) throws -> String {
        let at = stream.position
        let n = try stream.readUInt64(what: "the length of " + what())
        guard n <= maxStringLength else {
            throw GGUFError.stringTooLong(path: stream.name, length: n, offset: at)
        }
        try checkFits(stream, n, 1, what: "string of length \(n)", at: at)
        let bytes = try stream.read(Int(n), what: what())
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func readValue(_ stream: ByteStream, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .string:
            return .string(try readString(stream, what: "the value of key '\(key)'"))
        case .array:
            return .array(try readArray(stream, key: key, depth: depth + 1))
        default:
            let size = type.fixedSize ?? 1
            let b = try stream.read(size, what: "the value of key '\(key)'")
            var raw: UInt64 = 0
            for k in (0..<size).reversed() { raw = raw << 8 | UInt64(b[k]) }
            return GGUFValue.fromBits(raw, type)
        }
    }

    private static func readArray(_ stream: ByteStream, key: String, depth: Int) throws -> GGUFArray {
        let p = stream.name
        let at = stream.position
        if depth > maxNesting { throw GGUFError.nestingTooDeep(path: p, key: key, offset: at) }
        let rawType = try stream.readUInt32(what: "the element type of key '\(key)'")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw GGUFError.invalidValueType(path: p, key: key, type: rawType, offset: at)
        }
        let countAt = stream.position
        let n = try stream.readUInt64(what: "the array length of key '\(key)'")
        let minSize: UInt64 = type.fixedSize.map { UInt64($0) } ?? (type == .string ? 8 : 12)
        guard n <= maxArrayCount else {
            throw GGUFError.arrayTooLong(path: p, key: key, count: n, offset: countAt)
        }
        try checkFits(stream, n, minSize, what: "array of \(n) elements for key '\(key)'", at: countAt)
        let count = Int(n)
        switch type {
        case .string:
            var items: [String] = []
            for i in 0..<count { items.append(try readString(stream, what: "element \(i) of key '\(key)'")) }
            return GGUFArray(elementType: type, storage: .strings(items))
        case .array:
            var items: [GGUFArray] = []
            for _ in 0..<count { items.append(try readArray(stream, key: key, depth: depth + 1)) }
            return GGUFArray(elementType: type, storage: .arrays(items))
        default:
            let bytes = try stream.read(count * Int(minSize), what: "the array of key '\(key)'")
            return GGUFArray(elementType: type, storage: .packed(bytes))
        }
    }
}
