/// Parses and validates a safetensors header from a stream positioned at byte 0, leaving the stream
/// at the start of the data section. Checks mirror the reference Rust crate (`safetensors`
/// `SafeTensors::read_metadata` + `Metadata::validate`), plus duplicate-name detection.
public enum SafetensorsParser {
    /// The Rust crate's MAX_HEADER_SIZE.
    public static let maxHeaderLength: UInt64 = 100_000_000

    public static func parseHeader(_ stream: ByteStream) throws -> SafetensorsHeader {
        let p = stream.name
        let n64 = try stream.readUInt64(what: "the 8-byte header length")
        guard n64 <= maxHeaderLength else { throw SafetensorsError.headerTooLarge(path: p, length: n64) }
        let n = Int(n64)
        if let size = stream.knownLength, n > size - 8 {
            throw SafetensorsError.headerBeyondEnd(path: p, length: n64, fileSize: size)
        }
        let json = try stream.read(n, what: "the \(n)-byte JSON header")
        try checkUTF8(json, path: p)
        guard json.first == UInt8(ascii: "{") else { throw SafetensorsError.headerNotObject(path: p) }
        let root: JSONNode
        do {
            root = try JSONNodeParser.parse(json)
        } catch {
            if case .duplicateKey(let k) = error.kind {
                throw SafetensorsError.duplicateTensor(path: p, name: k, offset: 8 + error.offset)
            }
            throw SafetensorsError.invalidJSON(path: p, offset: 8 + error.offset, reason: error.message)
        }
        guard case .object(let members) = root else { throw SafetensorsError.headerNotObject(path: p) }

        var metadata: [MetadataEntry]? = nil
        var entries: [(info: TensorInfo, end: Int)] = []
        var order: [String] = []
        for m in members {
            if m.key == "__metadata__" {
                switch m.value {
                case .null: break
                case .object(let kv):
                    var list: [MetadataEntry] = []
                    for e in kv {
                        guard case .string(let s) = e.value else {
                            throw SafetensorsError.invalidMetadata(path: p, key: e.key, reason: "value is not a string")
                        }
                        list.append(MetadataEntry(key: e.key, value: s))
                    }
                    metadata = list
                default:
                    throw SafetensorsError.invalidMetadata(path: p, key: "__metadata__", reason: "not an object of strings")
                }
                continue
            }
            entries.append(try parseEntry(m.key, m.value, path: p))
            order.append(m.key)
        }

        // Data order: by (begin, end), as the Rust crate sorts before validating.
        let indices = entries.indices.sorted {
            (entries[$0].info.offset, entries[$0].end, $0) < (entries[$1].info.offset, entries[$1].end, $1)
        }
        var expected = 0
        var previous: (name: String, begin: Int, end: Int)? = nil
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(entries.count)
        for i in indices {
            let (info, end) = entries[i]
            let begin = info.offset
            if begin != expected {
                if begin > expected {
                    throw SafetensorsError.gap(path: p, tensor: info.name, expected: expected, found: begin)
                }
                let other = previous?.name ?? "?"
                if let prev = previous, prev.begin == begin, prev.end == end {
                    throw SafetensorsError.alias(path: p, tensor: info.name, other: other, begin: begin)
                }
                throw SafetensorsError.overlap(path: p, tensor: info.name, other: other, begin: begin)
            }
            // Size: shape product × dtype bits, checked. The product of the non-zero dimensions
            // must fit too, so that any partial product (rows × cols views) is safe for callers.
            var count = 1
            var nonZero = 1
            for d in info.shape {
                let (c, o) = count.multipliedReportingOverflow(by: d)
                let (z, o2) = nonZero.multipliedReportingOverflow(by: Swift.max(d, 1))
                if o || o2 { throw SafetensorsError.sizeOverflow(path: p, tensor: info.name) }
                count = c
                nonZero = z
            }
            if header8Overflow(end) { throw SafetensorsError.sizeOverflow(path: p, tensor: info.name) }
            guard case .safetensors(let dtype) = info.type else { continue }
            let (bits, o) = count.multipliedReportingOverflow(by: dtype.bitWidth)
            if o { throw SafetensorsError.sizeOverflow(path: p, tensor: info.name) }
            if bits % 8 != 0 {
                throw SafetensorsError.partialBytes(path: p, tensor: info.name, dtype: dtype.rawValue, elements: count)
            }
            if bits / 8 != info.byteCount {
                throw SafetensorsError.sizeMismatch(path: p, tensor: info.name, expected: bits / 8, actual: info.byteCount)
            }
            tensors.append(info)
            previous = (info.name, begin, end)
            expected = end
        }
        let header = SafetensorsHeader(headerLength: n, metadata: metadata, tensors: tensors, headerOrder: order)
        if let size = stream.knownLength {
            let (total, o) = header.dataStart.addingReportingOverflow(header.dataLength)
            if o || total > size {
                throw SafetensorsError.dataTruncated(path: p, expected: o ? Int.max : total, actual: size)
            }
            if total < size {
                throw SafetensorsError.trailingBytes(path: p, dataEnd: total, extra: String(size - total))
            }
        }
        return header
    }

    /// Whether a data offset cannot be turned into a file offset (8 + header + offset overflows).
    private static func header8Overflow(_ end: Int) -> Bool {
        end > Int.max - Int(maxHeaderLength) - 8
    }

    private static func parseEntry(_ name: String, _ value: JSONNode, path p: String) throws -> (info: TensorInfo, end: Int) {
        guard case .object = value else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "entry is not an object")
        }
        guard let dtypeValue = value["dtype"] else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "missing dtype")
        }
        guard let dtypeName = dtypeValue.stringValue else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "dtype is not a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(path: p, tensor: name, dtype: dtypeName)
        }
        guard let shapeValue = value["shape"] else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "missing shape")
        }
        guard case .array(let dims) = shapeValue else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "shape is not an array")
        }
        var shape: [Int] = []
        for d in dims {
            guard let v = d.nonNegativeInt else {
                throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "shape holds a value that is not a non-negative integer")
            }
            shape.append(v)
        }
        guard let offsetsValue = value["data_offsets"] else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "missing data_offsets")
        }
        guard case .array(let offs) = offsetsValue, offs.count == 2 else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "data_offsets is not an array of 2 integers")
        }
        guard let begin = offs[0].nonNegativeInt, let end = offs[1].nonNegativeInt else {
            throw SafetensorsError.invalidEntry(path: p, tensor: name, reason: "data_offsets holds a value that is not a non-negative integer")
        }
        guard end >= begin else {
            throw SafetensorsError.invalidOffsets(path: p, tensor: name, begin: begin, end: end)
        }
        let info = TensorInfo(name: name, type: .safetensors(dtype), shape: shape, offset: begin, byteCount: end - begin)
        return (info, end)
    }

    /// Rejects invalid UTF-8, naming the file offset of the first bad byte.
    package static func checkUTF8(_ bytes: [UInt8], path: String) throws {
        if String(validating: bytes, as: UTF8.self) != nil { return }
        var offset = 0
        var it = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        throw SafetensorsError.headerNotUTF8(path: path, offset: 8 + offset)
    }
}
