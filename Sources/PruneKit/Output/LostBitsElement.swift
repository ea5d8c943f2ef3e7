import PruneFormats

/// The float types the lost-bits codec handles.
enum LostBitsFormat { case f32, f16, bf16 }

/// A stored float type for the lost-bits codec: its layout, and its bits ↔ f32 exactly as
/// TensorCodec converts.
protocol LostBitsElement: SendableMetatype {
    static var width: Int { get }
    /// Bits of the significand field.
    static var mantissaBits: Int { get }
    /// Bits of the exponent field.
    static var exponentBits: Int { get }
    static func decode(_ x: UInt32) -> Float
    static func encode(_ f: Float) -> UInt32
    static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32
    static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32)
}

extension LostBitsElement {
    @inline(__always) static var signBit: UInt32 { 1 << UInt32(mantissaBits + exponentBits) }
    @inline(__always) static var magnitudeMask: UInt32 { signBit - 1 }
    @inline(__always) static var mantissaMask: UInt32 { (1 << UInt32(mantissaBits)) - 1 }
    /// The exponent field of infinities and NaNs.
    @inline(__always) static var exponentAllOnes: UInt32 { (1 << UInt32(exponentBits)) - 1 }
    @inline(__always) static var exponentBias: Int { (1 << (exponentBits - 1)) - 1 }
    /// Largest finite magnitude bit pattern.
    @inline(__always) static var maxFinite: UInt32 { (exponentAllOnes << UInt32(mantissaBits)) - 1 }
}

enum F32Bits: LostBitsElement {
    static let width = 4
    static let mantissaBits = 23
    static let exponentBits = 8
    @inline(__always) static func decode(_ x: UInt32) -> Float { Float(bitPattern: x) }
    @inline(__always) static func encode(_ f: Float) -> UInt32 { f.bitPattern }
    @inline(__always) static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
    }
    @inline(__always) static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32) {
        p.storeBytes(of: v.littleEndian, toByteOffset: i * 4, as: UInt32.self)
    }
}

/// The 16-bit types: stored as little-endian UInt16.
protocol LostBitsHalfElement: LostBitsElement {}

extension LostBitsHalfElement {
    @inline(__always) static var width: Int { 2 }
    @inline(__always) static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    }
    @inline(__always) static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32) {
        p.storeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian, toByteOffset: i * 2, as: UInt16.self)
    }
}

enum F16Bits: LostBitsHalfElement {
    static let mantissaBits = 10
    static let exponentBits = 5
    @inline(__always) static func decode(_ x: UInt32) -> Float { HalfFloat.toFloat(UInt16(truncatingIfNeeded: x)) }
    @inline(__always) static func encode(_ f: Float) -> UInt32 { UInt32(HalfFloat.fromFloat(f)) }
}

enum BF16Bits: LostBitsHalfElement {
    static let mantissaBits = 7
    static let exponentBits = 8
    @inline(__always) static func decode(_ x: UInt32) -> Float { HalfFloat.bfloat16ToFloat(UInt16(truncatingIfNeeded: x)) }
    @inline(__always) static func encode(_ f: Float) -> UInt32 { UInt32(HalfFloat.bfloat16FromFloat(f)) }
}
