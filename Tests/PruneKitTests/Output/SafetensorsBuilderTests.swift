import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Tensors written by producers, in pieces: the file is the one the same tensors given as bytes
/// make, the safetensors crate's layout reads it back, and a producer that breaks its word leaves no
/// file behind.
@Suite struct SafetensorsBuilderTests {
    static func tempDir() throws -> String { try TestEnvironment.tempDir("builder") }

    @Test func producedTensorsWriteTheBytesGivenOnes() throws {
        let values = (0..<(SafetensorsBuilder.piece / 8 + 37)).map { Double($0) * 0.5 - 3 }   // more than one piece
        let small: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        var given = SafetensorsBuilder(), produced = SafetensorsBuilder()
        for b in [0, 1] {
            var builder = SafetensorsBuilder()
            builder.setMetadata("format", "test")
            try builder.add("z", dtype: .u8, shape: [8], bytes: small)
            if b == 0 {
                try builder.add("a", f64: values, shape: [values.count])
                given = builder
            } else {
                try builder.add("a", f64Streamed: values, shape: [values.count])
                produced = builder
            }
        }
        let bytes = try given.build()
        #expect(try produced.build() == bytes)
        var pieces: [Int] = []
        var streamed: [UInt8] = []
        try produced.write { pieces.append($0.count); streamed.append(contentsOf: $0) }
        #expect(streamed == bytes)
        #expect(pieces.allSatisfy { $0 <= SafetensorsBuilder.piece } && pieces.count > 3)

        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/t.safetensors"
        try StagedFile(destination: path) { try produced.write(to: $0) }.commit()
        let file = try SafetensorsFile(path: path)
        let back = try file.withData(for: "a") { raw in
            (0..<values.count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
        #expect(back == values)
        #expect(try file.data(for: "z") == small)
    }

    @Test func aProducerThatBreaksItsCountLeavesNoFile() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (declared, writes) in [(16, 8), (8, 16)] {
            var b = SafetensorsBuilder()
            try b.add("x", dtype: .u8, shape: [declared], byteCount: declared) { sink in
                let bytes = [UInt8](repeating: 7, count: writes)
                try bytes.withUnsafeBytes { try sink($0) }
            }
            let path = dir + "/bad-\(declared).safetensors"
            do {
                try StagedFile(destination: path) { try b.write(to: $0) }.commit()
                Issue.record("a producer writing \(writes) of \(declared) bytes was written")
            } catch {
                let m = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(m.contains("x:") && !m.contains("\n"), "\(m)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
        var wrong = SafetensorsBuilder()
        #expect(throws: SidecarError.self) { try wrong.add("y", dtype: .f32, shape: [3], byteCount: 8) { _ in } }
    }

    /// An entry's bytes in full (what the sidecar hashes): a producer's error, or a count other than
    /// the declared one, is thrown, never an empty or short array.
    @Test func entryBytesThrowForABrokenProducer() throws {
        struct Broken: Error {}
        var b = SafetensorsBuilder()
        try b.add("ok", dtype: .u8, shape: [4], byteCount: 4) { sink in try [UInt8](repeating: 9, count: 4).withUnsafeBytes { try sink($0) } }
        try b.add("fails", dtype: .u8, shape: [4], byteCount: 4) { _ in throw Broken() }
        try b.add("short", dtype: .u8, shape: [4], byteCount: 4) { sink in try [UInt8](repeating: 1, count: 2).withUnsafeBytes { try sink($0) } }
        #expect(try b.entries[0].bytes() == [9, 9, 9, 9])
        #expect(throws: Broken.self) { _ = try b.entries[1].bytes() }
        #expect(throws: SidecarError.self) { _ = try b.entries[2].bytes() }
    }
}
