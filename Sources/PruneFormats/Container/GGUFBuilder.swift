/// Builds a new GGUF (version 3, little-endian) file in memory: the key/values in the order they are
/// set, then the tensor infos and the data in the order tensors are added, every tensor's data
/// aligned to `alignment` (32, GGUF's default; `general.alignment` is written only when it differs).
/// The same calls always give the same bytes. Only F32 tensors are written (what adapters need).
package struct GGUFBuilder {
    package let alignment: Int
    private var keyValues: [GGUFKeyValue] = []
    private var tensors: [(name: String, ne: [Int], values: [Float])] = []

    package init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment % 8 == 0, "GGUF alignment must be a positive multiple of 8")
        self.alignment = alignment
    }

    /// Sets a key (a key set twice keeps its first place and takes the new value).
    package mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = keyValues.firstIndex(where: { $0.key == key }) {
            keyValues[i].value = value
        } else {
            keyValues.append(GGUFKeyValue(key: key, value: value))
        }
    }

    /// Adds an F32 tensor with dimensions `ne` in ggml order (ne[0] innermost); `values` holds
    /// ne[0]·ne[1]·… elements, ne[0] varying fastest. False when the name is taken or the count is wrong.
    @discardableResult
    package mutating func addF32(_ name: String, ne: [Int], values: [Float]) -> Bool {
        guard !tensors.contains(where: { $0.name == name }), !ne.isEmpty, ne.count <= 4, ne.allSatisfy({ $0 > 0 }),
              ne.reduce(1, *) == values.count else { return false }
        tensors.append((name, ne, values))
        return true
    }

    /// The file.
    package func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out += Array("GGUF".utf8)
        Self.put(UInt32(3), &out)
        Self.put(UInt64(tensors.count), &out)
        var kvs = keyValues
        if alignment != GGUFParser.defaultAlignment, !kvs.contains(where: { $0.key == "general.alignment" }) {
            kvs.append(GGUFKeyValue(key: "general.alignment", value: .uint32(UInt32(alignment))))
        }
        Self.put(UInt64(kvs.count), &out)
        for kv in kvs {
            Self.putString(kv.key, &out)
            Self.put(kv.value.type.rawValue, &out)
            Self.putValue(kv.value, &out)
        }
        var offset = 0
        for t in tensors {
            Self.putString(t.name, &out)
            Self.put(UInt32(t.ne.count), &out)
            for d in t.ne { Self.put(UInt64(d), &out) }
            Self.put(GGMLType.f32.rawValue, &out)
            Self.put(UInt64(offset), &out)
            offset = GGUFParser.pad(offset + 4 * t.values.count, alignment)
        }
        out += [UInt8](repeating: 0, count: GGUFParser.pad(out.count, alignment) - out.count)
        for t in tensors {
            out.reserveCapacity(out.count + 4 * t.values.count)
            for v in t.values { Self.put(v.bitPattern, &out) }
            out += [UInt8](repeating: 0, count: GGUFParser.pad(out.count, alignment) - out.count)
        }
        return out
    }

    private static func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        var x = v.littleEndian
        withUnsafeBytes(of: &x) { out += $0 }
    }

    private static func putString(_ s: String, _ out: inout [UInt8]) {
        let b = Array(s.utf8)
        put(UInt64(b.count), &out)
        out += b
    }

    private static func putValue(_ value: GGUFValue, _ out: inout [UInt8]) {
        switch value {
        case .uint8(let v): put(v, &out)
        case .int8(let v): put(v, &out)
        case .uint16(let v): put(v, &out)
        case .int16(let v): put(v, &out)
        case .uint32(let v): put(v, &out)
        case .int32(let v): put(v, &out)
        case .uint64(let v): put(v, &out)
        case .int64(let v): put(v, &out)
        case .float32(let v): put(v.bitPattern, &out)
        case .float64(let v): put(v.bitPattern, &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): putString(s, &out)
        case .array(let a):
            put(a.elementType.rawValue, &out)
            put(UInt64(a.count), &out)
            switch a.storage {
            case .packed(let b): out += b
            case .strings(let s): for x in s { putString(x, &out) }
            case .arrays(let inner): for x in inner { putValue(.array(x), &out) }
            }
        }
    }
}
