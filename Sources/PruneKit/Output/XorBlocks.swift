import PruneFormats

/// The `xor-blocks` residual of quantized (and other non-2/4-byte) tensors: only the blocks that
/// differ between the base and what revert reconstructs, XORed, zstd-compressed.
///
/// Layout before compression (prune-sidecar(5)): varint block bytes, varint block count, a bitmap
/// of ⌈blocks/8⌉ bytes (bit i, least significant first, set when block i differs), then
/// base XOR reconstructed for every differing block, in order. Compressed with zstd at a fast
/// level (multi-threaded, bytes independent of the thread count).
package enum XorBlocks {
    package static let codec = "xor-blocks"

    /// Bytes of one block of a tensor type (one element for scalar types).
    package static func blockBytes(_ type: TensorType) -> Int {
        let n = TensorCodec.blockSize(type)
        return type.byteCount(forElements: n) ?? 1
    }

    package static func make(base: UnsafeRawBufferPointer, reconstructed: [UInt8], blockBytes: Int, threads: Int) throws -> [UInt8] {
        guard base.count == reconstructed.count, blockBytes > 0, base.count % blockBytes == 0 else {
            throw SidecarError.builder("xor-blocks: \(base.count) and \(reconstructed.count) bytes in blocks of \(blockBytes)")
        }
        let blocks = base.count / blockBytes
        var w = ByteWriter()
        w.varint(UInt64(blockBytes))
        w.varint(UInt64(blocks))
        var bitmap = [UInt8](repeating: 0, count: (blocks + 7) / 8)
        var xor: [UInt8] = []
        reconstructed.withUnsafeBytes { r in
            for b in 0..<blocks {
                let s = b * blockBytes
                var differs = false
                for i in s..<(s + blockBytes) where base[i] != r[i] { differs = true; break }
                guard differs else { continue }
                bitmap[b >> 3] |= 1 << UInt8(b & 7)
                for i in s..<(s + blockBytes) { xor.append(base[i] ^ r[i]) }
            }
        }
        w.bytes(bitmap)
        w.bytes(xor)
        do { return try ZstdBuffer.compress(w.data, threads: threads) } catch let e as ZstdBufferError {
            throw SidecarError.builder("xor-blocks: " + e.reason)
        }
    }

    /// Turns `reconstructed` into the base bytes.
    package static func apply(_ residual: [UInt8], length: Int, to reconstructed: inout [UInt8], path: String, tensor: String) throws {
        func fail(_ r: String) -> SidecarError { .residual(path: path, tensor: tensor, reason: "xor-blocks: " + r) }
        guard reconstructed.count == length else { throw fail("length \(length), tensor has \(reconstructed.count) bytes") }
        let size = residual.withUnsafeBytes { ZstdBuffer.contentSize($0) }
        // Header varints + bitmap + at most every block: never more than the tensor plus its bitmap.
        guard let size, size <= length + length / 8 + 32 else { throw fail("zstd frame size missing or too large") }
        let raw: [UInt8]
        do { raw = try ZstdBuffer.decompress(residual, length: size) } catch let e as ZstdBufferError { throw fail(e.reason) }
        var r = ByteReader(raw)
        do {
            let blockBytes = Int(clamping: try r.varint())
            let blocks = Int(clamping: try r.varint())
            guard blockBytes > 0, blocks.multipliedReportingOverflow(by: blockBytes) == (length, false) else {
                throw ResidualFailure("\(blocks) blocks of \(blockBytes) bytes for \(length) bytes")
            }
            let mapStart = r.position
            let mapBytes = (blocks + 7) / 8
            guard raw.count - mapStart >= mapBytes else { throw ResidualFailure("truncated bitmap") }
            var at = mapStart + mapBytes
            for b in 0..<blocks where raw[mapStart + (b >> 3)] & (1 << UInt8(b & 7)) != 0 {
                guard raw.count - at >= blockBytes else { throw ResidualFailure("truncated blocks") }
                let s = b * blockBytes
                for i in 0..<blockBytes { reconstructed[s + i] ^= raw[at + i] }
                at += blockBytes
            }
            guard at == raw.count else { throw ResidualFailure("trailing bytes") }
        } catch let e as ResidualFailure { throw fail(e.reason) }
    }
}
