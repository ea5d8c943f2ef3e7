import PruneFormats

/// The float types the lost-bits codec handles.
enum LostBitsFormat { case f32, f16, bf16 }

/// A stored float type for the lost-bits codec: its bits ↔ f32 exactly as TensorCodec converts.
protocol LostBitsElement: SendableMetatype {
    static var width: Int { get }
    static var signBit: UInt32 { get }
    static var magnitudeMask: UInt32 { get }
    /// Largest finite magnitude bit pattern.
    static var maxFinite: UInt32 { get }
    static func decode(_ x: UInt32) -> Float
    static func encode(_ f: Float) -> UInt32
    static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32
    static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32)
}

enum F32Bits: LostBitsElement {
    static let width = 4
    static let signBit: UInt32 = 0x8000_0000
    static let magnitudeMask: UInt32 = 0x7FFF_FFFF
    static let maxFinite: UInt32 = 0x7F7F_FFFF
    @inline(__always) static func decode(_ x: UInt32) -> Float { Float(bitPattern: x) }
    @inline(__always) static func encode(_ f: Float) -> UInt32 { f.bitPattern }
    @inline(__always) static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
    }
    @inline(__always) static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32) {
        p.storeBytes(of: v.littleEndian, toByteOffset: i * 4, as: UInt32.self)
    }
}

enum F16Bits: LostBitsElement {
    static let width = 2
    static let signBit: UInt32 = 0x8000
    static let magnitudeMask: UInt32 = 0x7FFF
    static let maxFinite: UInt32 = 0x7BFF
    @inline(__always) static func decode(_ x: UInt32) -> Float { HalfFloat.toFloat(UInt16(truncatingIfNeeded: x)) }
    @inline(__always) static func encode(_ f: Float) -> UInt32 { UInt32(HalfFloat.fromFloat(f)) }
    @inline(__always) static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    }
    @inline(__always) static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32) {
        p.storeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian, toByteOffset: i * 2, as: UInt16.self)
    }
}

enum BF16Bits: LostBitsElement {
    static let width = 2
    static let signBit: UInt32 = 0x8000
    static let magnitudeMask: UInt32 = 0x7FFF
    static let maxFinite: UInt32 = 0x7F7F
    @inline(__always) static func decode(_ x: UInt32) -> Float { HalfFloat.bfloat16ToFloat(UInt16(truncatingIfNeeded: x)) }
    @inline(__always) static func encode(_ f: Float) -> UInt32 { UInt32(HalfFloat.bfloat16FromFloat(f)) }
    @inline(__always) static func load(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    }
    @inline(__always) static func store(_ p: UnsafeMutableRawBufferPointer, _ i: Int, _ v: UInt32) {
        p.storeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian, toByteOffset: i * 2, as: UInt16.self)
    }
}
