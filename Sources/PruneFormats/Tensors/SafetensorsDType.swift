/// A dtype of the safetensors format (the `dtype` string of a header entry).
///
/// Covers every dtype of the current specification (safetensors 0.8: the reference crate's `Dtype`
/// enum), including the sub-byte float types and the AMD "fnuz" fp8 variants.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case f4 = "F4"                 // float4 e2m1, two values a byte
    case f6_e2m3 = "F6_E2M3", f6_e3m2 = "F6_E3M2"   // 6-bit floats, packed
    case u8 = "U8", i8 = "I8"
    case f8_e5m2 = "F8_E5M2", f8_e4m3 = "F8_E4M3", f8_e8m0 = "F8_E8M0"
    case f8_e4m3fnuz = "F8_E4M3FNUZ", f8_e5m2fnuz = "F8_E5M2FNUZ"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case c64 = "C64"
    case f64 = "F64", i64 = "I64", u64 = "U64"

    /// Size of one element in bits (sub-byte types are packed).
    public var bitWidth: Int {
        switch self {
        case .f4: return 4
        case .f6_e2m3, .f6_e3m2: return 6
        case .bool, .u8, .i8, .f8_e5m2, .f8_e4m3, .f8_e8m0, .f8_e4m3fnuz, .f8_e5m2fnuz: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .f64, .i64, .u64, .c64: return 64
        }
    }

    /// Whether values of this dtype are real floats that decode to f32.
    public var isFloat: Bool {
        switch self {
        case .f4, .f6_e2m3, .f6_e3m2, .f8_e5m2, .f8_e4m3, .f8_e8m0, .f8_e4m3fnuz, .f8_e5m2fnuz,
             .f16, .bf16, .f32, .f64:
            return true
        default: return false
        }
    }

    /// Bytes needed for `count` elements, or nil when a packed type does not fill whole bytes
    /// or the size overflows.
    public func byteCount(forElements count: Int) -> Int? {
        guard count >= 0 else { return nil }
        let (bits, overflow) = count.multipliedReportingOverflow(by: bitWidth)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }
}
