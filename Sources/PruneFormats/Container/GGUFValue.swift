/// The type tag of a GGUF metadata value (gguf.h `enum gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one value for fixed-size types; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    public var description: String {
        switch self {
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .uint32: return "UINT32"
        case .int32: return "INT32"
        case .float32: return "FLOAT32"
        case .bool: return "BOOL"
        case .string: return "STRING"
        case .array: return "ARRAY"
        case .uint64: return "UINT64"
        case .int64: return "INT64"
        case .float64: return "FLOAT64"
        }
    }
}

/// A GGUF metadata value.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    case array(GGUFArray)

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        case .array: return .array
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Integer types as Int64 (UInt64 values above Int64.max give nil).
    public var integerValue: Int64? {
        switch self {
        case .uint8(let v): return Int64(v)
        case .int8(let v): return Int64(v)
        case .uint16(let v): return Int64(v)
        case .int16(let v): return Int64(v)
        case .uint32(let v): return Int64(v)
        case .int32(let v): return Int64(v)
        case .uint64(let v): return Int64(exactly: v)
        case .int64(let v): return v
        default: return nil
        }
    }

    /// The value as JSON; arrays longer than `arrayLimit` are abbreviated to
    /// `{"type": "array", "element_type", "count", "head": [first items]}`.
    public func json(arrayLimit: Int? = nil) -> JSONNode {
        switch self {
        case .uint8(let v): return .int(v)
        case .int8(let v): return .int(v)
        case .uint16(let v): return .int(v)
        case .int16(let v): return .int(v)
        case .uint32(let v): return .int(v)
        case .int32(let v): return .int(v)
        case .uint64(let v): return .int(v)
        case .int64(let v): return .int(v)
        case .float32(let v): return .double(Double(v))
        case .float64(let v): return .double(v)
        case .bool(let v): return .bool(v)
        case .string(let s): return .string(s)
        case .array(let a):
            if let limit = arrayLimit, a.count > limit {
                return .object([
                    JSONNodeMember(key: "type", value: .string("array")),
                    JSONNodeMember(key: "element_type", value: .string(a.elementType.description)),
                    JSONNodeMember(key: "count", value: .int(a.count)),
                    JSONNodeMember(key: "head", value: .array((0..<limit).map { a[$0].json(arrayLimit: limit) })),
                ])
            }
            return .array((0..<a.count).map { a[$0].json(arrayLimit: arrayLimit) })
        }
    }
}

/// A GGUF array value: fixed-size elements are kept packed (little-endian, as stored).
public struct GGUFArray: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        case packed([UInt8])
        case strings([String])
        case arrays([GGUFArray])
    }
    public var elementType: GGUFValueType
    public var storage: Storage

    public var count: Int {
        switch storage {
        case .packed(let b): return b.count / (elementType.fixedSize ?? 1)
        case .strings(let s): return s.count
        case .arrays(let a): return a.count
        }
    }

    /// Element `i` as a value.
    public subscript(i: Int) -> GGUFValue {
        switch storage {
        case .strings(let s): return .string(s[i])
        case .arrays(let a): return .array(a[i])
        case .packed(let b):
            let size = elementType.fixedSize ?? 1
            var raw: UInt64 = 0
            for k in (0..<size).reversed() { raw = raw << 8 | UInt64(b[i * size + k]) }
            return GGUFValue.fromBits(raw, elementType)
        }
    }
}

extension GGUFValue {
    /// A fixed-size value from its little-endian bits.
    package static func fromBits(_ raw: UInt64, _ type: GGUFValueType) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(UInt8(truncatingIfNeeded: raw))
        case .int8: return .int8(Int8(truncatingIfNeeded: raw))
        case .uint16: return .uint16(UInt16(truncatingIfNeeded: raw))
        case .int16: return .int16(Int16(truncatingIfNeeded: raw))
        case .uint32: return .uint32(UInt32(truncatingIfNeeded: raw))
        case .int32: return .int32(Int32(truncatingIfNeeded: raw))
        case .float32: return .float32(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case .bool: return .bool(raw & 0xFF != 0)
        case .uint64: return .uint64(raw)
        case .int64: return .int64(Int64(bitPattern: raw))
        case .float64: return .float64(Double(bitPattern: raw))
        case .string, .array: return .uint64(raw)   // not reached: callers pass fixed-size types
        }
    }
}

/// One key/value pair of a GGUF header.
public struct GGUFKeyValue: Sendable, Equatable {
    public var key: String
    public var value: GGUFValue
    public init(key: String, value: GGUFValue) {
        self.key = key
        self.value = value
    }
}
