/// Element-wise kernels for the plain float types (one value per element, F4 two per byte).
/// All multi-byte values are little-endian.
package enum ScalarCodec {
    package static func decodeF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * n)
        #else
        for i in 0..<n {
            dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
        #endif
    }

    package static func decodeF64(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
        }
    }

    package static func decodeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            dst[i] = HalfFloat.toFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    package static func decodeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            dst[i] = HalfFloat.bfloat16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    package static func decodeMini(_ format: MiniFloat, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        format.table.withUnsafeBufferPointer { table in
            for i in 0..<n { dst[i] = table[Int(bytes[i])] }
        }
    }

    /// F4 (E2M1): `n` counts blocks of two values; the first value is in the low nibble.
    package static func decodeF4(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        MiniFloat.e2m1.table.withUnsafeBufferPointer { table in
            for i in 0..<n {
                dst[2 * i] = table[Int(bytes[i] & 0x0f)]
                dst[2 * i + 1] = table[Int(bytes[i] >> 4)]
            }
        }
    }

    package static func encodeF32(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int? {
        #if _endian(little)
        dst.copyMemory(from: src, byteCount: 4 * n)
        #else
        for i in 0..<n { dst.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        #endif
        return nil
    }

    package static func encodeF64(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int? {
        for i in 0..<n { dst.storeBytes(of: Double(src[i]).bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
        return nil
    }

    package static func encodeF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int? {
        for i in 0..<n { dst.storeBytes(of: HalfFloat.fromFloat(src[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        return nil
    }

    package static func encodeBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int? {
        for i in 0..<n { dst.storeBytes(of: HalfFloat.bfloat16FromFloat(src[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        return nil
    }

    package static func encodeMini(_ format: MiniFloat, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int? {
        for i in 0..<n { dst.storeBytes(of: format.encode(src[i]), toByteOffset: i, as: UInt8.self) }
        return nil
    }
}
