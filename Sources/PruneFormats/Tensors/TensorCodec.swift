import Dispatch
import Foundation

/// Decodes stored tensor bytes to f32 and encodes f32 back, for the float dtypes of safetensors
/// and the float and quantized types of ggml.
///
/// - Plain floats: F64, F32, F16, BF16 both ways; F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ both
///   ways (round to nearest even, non-saturating); F8_E8M0 and F4 (E2M1, low nibble first) decode
///   only; F6 types are refused (their bit packing is not fixed by the spec).
/// - ggml: F32, F16, BF16, F64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K both ways.
///   F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 give the bytes gguf-py's `quants.quantize` gives.
///
/// Quantized types quantize block by block along ne0: since a row holds whole blocks, a flat run
/// of rows quantizes exactly as row by row. Work is split over threads by whole blocks; the output
/// never depends on the split.
public enum TensorCodec {
    /// Decode `count` elements stored as `type` into f32.
    public static func decode(_ bytes: UnsafeRawBufferPointer, as type: TensorType, count: Int) throws -> [Float] {
        try decode(bytes, as: type, count: count, threads: defaultThreads)
    }

    /// Encode f32 values to `type`, in the layout the container stores.
    public static func encode(_ values: [Float], as type: TensorType) throws -> [UInt8] {
        try values.withUnsafeBufferPointer { try encode($0, as: type, threads: defaultThreads) }
    }

    /// Decode into a caller-provided buffer of exactly `output.count` elements (no allocation).
    public static func decode(_ bytes: UnsafeRawBufferPointer, as type: TensorType, into output: UnsafeMutableBufferPointer<Float>) throws {
        try decode(bytes, as: type, into: output, threads: defaultThreads)
    }

    /// Encode from a buffer of f32 values.
    public static func encode(_ values: UnsafeBufferPointer<Float>, as type: TensorType) throws -> [UInt8] {
        try encode(values, as: type, threads: defaultThreads)
    }

    public static func canDecode(_ type: TensorType) -> Bool {
        decoder(for: type) != nil
    }

    public static func canEncode(_ type: TensorType) -> Bool {
        encoder(for: type) != nil
    }

    /// Bytes `count` elements of `type` take, or the error explaining why they cannot be stored.
    public static func byteCount(of type: TensorType, count: Int) throws -> Int {
        guard count >= 0 else { throw TensorCodecError.countNotMultipleOfBlock(type, count: count, blockSize: blockSize(type)) }
        guard count % blockSize(type) == 0 else {
            throw TensorCodecError.countNotMultipleOfBlock(type, count: count, blockSize: blockSize(type))
        }
        guard let n = type.byteCount(forElements: count) else { throw TensorCodecError.sizeOverflow(type, count: count) }
        return n
    }

    /// Values per block (1 for scalar types, 2 for packed F4).
    package static func blockSize(_ type: TensorType) -> Int {
        switch type {
        case .ggml(let g): return g.blockSize
        case .safetensors(let d):
            switch d {
            case .f4: return 2
            case .f6_e2m3, .f6_e3m2: return 4
            default: return 1
            }
        }
    }

    // MARK: - Internals (thread count explicit so tests can check thread independence)

    package static var defaultThreads: Int { Swift.max(1, ProcessInfo.processInfo.activeProcessorCount) }

    package static func decode(_ bytes: UnsafeRawBufferPointer, as type: TensorType, count: Int, threads: Int) throws -> [Float] {
        guard decoder(for: type) != nil else { throw TensorCodecError.unsupportedType(type, operation: .decode) }
        let expected = try byteCount(of: type, count: count)
        guard bytes.count == expected else {
            throw TensorCodecError.byteCountMismatch(type, count: count, expected: expected, actual: bytes.count)
        }
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try decode(bytes, as: type, into: buffer, threads: threads)
            initialized = count
        }
    }

    package static func decode(_ bytes: UnsafeRawBufferPointer, as type: TensorType, into output: UnsafeMutableBufferPointer<Float>, threads: Int) throws {
        guard let kernel = decoder(for: type) else { throw TensorCodecError.unsupportedType(type, operation: .decode) }
        let count = output.count
        let expected = try byteCount(of: type, count: count)
        guard bytes.count == expected else {
            throw TensorCodecError.byteCountMismatch(type, count: count, expected: expected, actual: bytes.count)
        }
        guard count > 0, let src = bytes.baseAddress, let dst = output.baseAddress else { return }
        let block = blockSize(type)
        let blockBytes = expected / (count / block)
        let totalBlocks = count / block
        parallel(blocks: totalBlocks, valuesPerBlock: block, threads: threads) { first, n in
            kernel(src + first * blockBytes, dst + first * block, n)
        }
    }

    package static func encode(_ values: UnsafeBufferPointer<Float>, as type: TensorType, threads: Int) throws -> [UInt8] {
        guard let kernel = encoder(for: type) else { throw TensorCodecError.unsupportedType(type, operation: .encode) }
        let count = values.count
        let size = try byteCount(of: type, count: count)
        let block = blockSize(type)
        let quantized = block > 1
        guard count > 0, let src = values.baseAddress else { return [] }
        if quantized, let bad = firstNonFinite(values) {
            throw TensorCodecError.nonFiniteValue(type, index: bad)
        }
        let blockBytes = size / (count / block)
        let totalBlocks = count / block
        var firstFailure = Int.max
        let output = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let dst = UnsafeMutableRawPointer(buffer.baseAddress!)
            firstFailure = parallelFirstFailure(blocks: totalBlocks, valuesPerBlock: block, threads: threads) { first, n in
                kernel(src + first * block, dst + first * blockBytes, n).map { first + $0 }
            }
            initialized = size
        }
        if firstFailure != Int.max {
            throw TensorCodecError.valueOutOfRange(type, index: firstFailure * block)
        }
        return output
    }

    // MARK: - Kernels

    package typealias DecodeKernel = (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
    package typealias EncodeKernel = (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Int?

    package static func decoder(for type: TensorType) -> DecodeKernel? {
        switch type {
        case .ggml(let g):
            switch g {
            case .f32: return ScalarCodec.decodeF32
            case .f16: return ScalarCodec.decodeF16
            case .bf16: return ScalarCodec.decodeBF16
            case .f64: return ScalarCodec.decodeF64
            default: return blockCodec(for: g).map { codec in { codec.decode($0, into: $1, blocks: $2) } }
            }
        case .safetensors(let d):
            switch d {
            case .f32: return ScalarCodec.decodeF32
            case .f16: return ScalarCodec.decodeF16
            case .bf16: return ScalarCodec.decodeBF16
            case .f64: return ScalarCodec.decodeF64
            case .f8_e4m3: return { ScalarCodec.decodeMini(MiniFloat.e4m3, $0, $1, $2) }
            case .f8_e5m2: return { ScalarCodec.decodeMini(MiniFloat.e5m2, $0, $1, $2) }
            case .f8_e4m3fnuz: return { ScalarCodec.decodeMini(MiniFloat.e4m3fnuz, $0, $1, $2) }
            case .f8_e5m2fnuz: return { ScalarCodec.decodeMini(MiniFloat.e5m2fnuz, $0, $1, $2) }
            case .f8_e8m0: return { ScalarCodec.decodeMini(MiniFloat.e8m0, $0, $1, $2) }
            case .f4: return ScalarCodec.decodeF4
            default: return nil
            }
        }
    }

    package static func encoder(for type: TensorType) -> EncodeKernel? {
        switch type {
        case .ggml(let g):
            switch g {
            case .f32: return ScalarCodec.encodeF32
            case .f16: return ScalarCodec.encodeF16
            case .bf16: return ScalarCodec.encodeBF16
            case .f64: return ScalarCodec.encodeF64
            default: return blockCodec(for: g).map { codec in { codec.encode($0, into: $1, blocks: $2) } }
            }
        case .safetensors(let d):
            switch d {
            case .f32: return ScalarCodec.encodeF32
            case .f16: return ScalarCodec.encodeF16
            case .bf16: return ScalarCodec.encodeBF16
            case .f64: return ScalarCodec.encodeF64
            case .f8_e4m3: return { ScalarCodec.encodeMini(MiniFloat.e4m3, $0, $1, $2) }
            case .f8_e5m2: return { ScalarCodec.encodeMini(MiniFloat.e5m2, $0, $1, $2) }
            case .f8_e4m3fnuz: return { ScalarCodec.encodeMini(MiniFloat.e4m3fnuz, $0, $1, $2) }
            case .f8_e5m2fnuz: return { ScalarCodec.encodeMini(MiniFloat.e5m2fnuz, $0, $1, $2) }
            default: return nil
            }
        }
    }

    package static func blockCodec(for type: GGMLType) -> (any BlockCodec.Type)? {
        switch type {
        case .q4_0: return Q4_0.self
        case .q4_1: return Q4_1.self
        case .q5_0: return Q5_0.self
        case .q5_1: return Q5_1.self
        case .q8_0: return Q8_0.self
        case .q2_K: return Q2_K.self
        case .q3_K: return Q3_K.self
        case .q4_K: return Q4_K.self
        case .q5_K: return Q5_K.self
        case .q6_K: return Q6_K.self
        default: return nil
        }
    }

    // MARK: - Work splitting

    /// Splits `blocks` into contiguous ranges of at least ~64 Ki values and runs `body` on each,
    /// possibly concurrently.
    private static func parallel(blocks: Int, valuesPerBlock: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let ranges = split(blocks: blocks, valuesPerBlock: valuesPerBlock, threads: threads)
        if ranges.count == 1 {
            body(0, blocks)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: ranges.count) { i in
                box.value(ranges[i].first, ranges[i].count)
            }
        }
    }

    /// Like `parallel`, collecting the smallest failing block index any range reports.
    private static func parallelFirstFailure(blocks: Int, valuesPerBlock: Int, threads: Int, _ body: (Int, Int) -> Int?) -> Int {
        let ranges = split(blocks: blocks, valuesPerBlock: valuesPerBlock, threads: threads)
        var failures = [Int](repeating: Int.max, count: ranges.count)
        failures.withUnsafeMutableBufferPointer { slots in
            let slotBox = UncheckedBox(slots)
            withoutActuallyEscaping(body) { body in
                let box = UncheckedBox(body)
                if ranges.count == 1 {
                    slotBox.value[0] = box.value(0, blocks) ?? Int.max
                } else {
                    DispatchQueue.concurrentPerform(iterations: ranges.count) { i in
                        slotBox.value[i] = box.value(ranges[i].first, ranges[i].count) ?? Int.max
                    }
                }
            }
        }
        return failures.min() ?? Int.max
    }

    private static func split(blocks: Int, valuesPerBlock: Int, threads: Int) -> [(first: Int, count: Int)] {
        let minValues = 1 << 16
        let minBlocks = Swift.max(1, minValues / Swift.max(1, valuesPerBlock))
        guard threads > 1 else { return [(0, blocks)] }
        let parts = Swift.max(1, Swift.min(threads * 4, blocks / minBlocks))
        guard parts > 1 else { return [(0, blocks)] }
        var ranges: [(first: Int, count: Int)] = []
        ranges.reserveCapacity(parts)
        let base = blocks / parts, extra = blocks % parts
        var first = 0
        for p in 0..<parts {
            let n = base + (p < extra ? 1 : 0)
            ranges.append((first, n))
            first += n
        }
        return ranges
    }

    private static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        for i in values.indices where !values[i].isFinite { return i }
        return nil
    }
}

/// Carries a non-Sendable value into `concurrentPerform`; every iteration touches disjoint memory.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
