import Foundation
import Testing
@testable import PruneFormats

/// One-shot multi-threaded zstd: the same bytes for every thread count (facebook/zstd#2327: the
/// one-pass ZSTD_e_end shortcut would split jobs by worker count), and the zstd tool reads them.
@Suite struct ZstdBufferTests {
    /// Weight-like bytes: compressible, but not trivially (about 30 MiB: several zstd jobs at level 3).
    static let input: [UInt8] = {
        var s: UInt64 = 0x2327
        var out = [UInt8](repeating: 0, count: 30 << 20)
        for i in stride(from: 0, to: out.count, by: 4) {
            s ^= s >> 12; s ^= s << 25; s ^= s >> 27
            let r = s &* 0x2545_F491_4F6C_DD1D
            let f = Float(Int64(bitPattern: r) >> 44) * 1e-7
            withUnsafeBytes(of: f.bitPattern.littleEndian) { b in for k in 0..<4 { out[i + k] = b[k] } }
        }
        return out
    }()

    @Test func outputDoesNotDependOnTheThreadCount() throws {
        for input in [Self.input, Array(Self.input.prefix(3 << 20)), Array(Self.input.prefix(1 << 20)),
                      Array(Self.input.prefix(777)), []] {
            let one = try ZstdBuffer.compress(input, threads: 1)
            for threads in [2, 3, 4, 8] {
                #expect(try ZstdBuffer.compress(input, threads: threads) == one,
                        "\(input.count) bytes: \(threads) threads differ from 1")
            }
            #expect(try ZstdBuffer.decompress(one, length: input.count) == input ? true : false, "round trip")
            #expect(one.withUnsafeBytes { ZstdBuffer.contentSize($0) } == input.count)
        }
    }

    @Test func theZstdToolDecompressesIt() throws {
        let dir = try TestEnvironment.tempDir("zstdbuffer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let packed = try ZstdBuffer.compress(Self.input, threads: 4)
        try Data(packed).write(to: URL(fileURLWithPath: dir + "/x.zst"))
        let r = try TestProcess.run("/usr/bin/env", ["zstd", "-q", "-d", dir + "/x.zst", "-o", dir + "/x"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: dir + "/x").map { [UInt8]($0) } == Self.input ? true : false, "zstd tool output")
    }

    @Test func damagedOrMislabelledDataIsRefused() throws {
        var packed = try ZstdBuffer.compress(Array(Self.input.prefix(1 << 20)), threads: 2)
        #expect(throws: ZstdBufferError.self) { _ = try ZstdBuffer.decompress(packed, length: (1 << 20) - 1) }
        #expect(throws: ZstdBufferError.self) { _ = try ZstdBuffer.decompress(packed, length: (1 << 20) + 1) }
        #expect(throws: ZstdBufferError.self) { _ = try ZstdBuffer.decompress(Array(packed.dropLast(5)), length: 1 << 20) }
        packed[packed.count / 2] ^= 0x55
        #expect(throws: ZstdBufferError.self) { _ = try ZstdBuffer.decompress(packed, length: 1 << 20) }
    }
}
