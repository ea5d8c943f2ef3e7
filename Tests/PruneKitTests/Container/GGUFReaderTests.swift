import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite struct GGUFReaderTests {
    static let ggufFixtures = IOTest.models.flatMap { m in
        ["model-f32.gguf", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"].map { IOTest.fixture(m, $0) }
    }

    /// Tensors (name, type, ne, offset, size, bytes) and KV order/values agree with gguf-py's reader.
    @Test(arguments: ggufFixtures)
    func matchesGGUFPy(path: String) throws {
        let ref = try #require(IOTest.python("io_reference.py", [path]) as? [String: Any])
        let refTensors = try #require(ref["tensors"] as? [[String: Any]])
        let file = try ModelFile(path: path)
        guard case .gguf(let h) = file.header else { Issue.record("not gguf"); return }
        #expect(Int(h.version) == ref["version"] as? Int)
        #expect(h.keyValues.map(\.key) == ref["keys"] as? [String])
        #expect(file.tensors.count == refTensors.count)
        #expect(file.tensors.count > 10)
        for (t, r) in zip(file.tensors, refTensors) {
            #expect(t.name == r["name"] as? String)
            #expect(t.type.description == r["dtype"] as? String)
            #expect(t.shape == r["shape"] as? [Int])
            #expect(t.offset == r["offset"] as? Int)
            #expect(t.byteCount == r["bytes"] as? Int)
            #expect(try file.withData(for: t.name) { SHA256Hasher.hex($0) } == r["sha256"] as? String, "\(t.name)")
        }
        let meta = try #require(ref["metadata"] as? [String: Any])
        for kv in h.keyValues {
            switch kv.value {
            case .array(let a):
                let m = meta[kv.key] as? [String: Any]
                #expect(m?["count"] as? Int == a.count, "\(kv.key)")
                #expect(m?["array"] as? String == a.elementType.description, "\(kv.key)")
            case .string(let s): #expect(meta[kv.key] as? String == s, "\(kv.key)")
            case .float32(let f): #expect((meta[kv.key] as? Double).map { Float($0) } == f, "\(kv.key)")
            case .bool(let b): #expect(meta[kv.key] as? Bool == b, "\(kv.key)")
            default: #expect((meta[kv.key] as? NSNumber)?.int64Value == kv.value.integerValue, "\(kv.key)")
            }
        }
        #expect(h.architecture == (path.contains("llama") ? "llama" : "gpt2"))
        #expect(h.alignment == 32)
    }

    @Test func tokenArrayElementsReadBack() throws {
        let file = try ModelFile(path: IOTest.fixture("llama-tiny", "model-f32.gguf"))
        guard case .gguf(let h) = file.header, case .array(let tokens)? = h["tokenizer.ggml.tokens"] else {
            Issue.record("no token array"); return
        }
        #expect(tokens.count == 4096)
        #expect(tokens[1] == .string("<s>"))
    }

    // MARK: hand-built files

    /// A little GGUF writer for malformed-input tests.
    struct Builder {
        var bytes: [UInt8] = []
        mutating func u32(_ v: UInt32) { bytes += (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        mutating func u64(_ v: UInt64) { bytes += (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
        mutating func pad(_ a: Int = 32) { while bytes.count % a != 0 { bytes.append(0) } }

        /// GGUF v3 with the given KV writer and tensors (name, type, ne, offset); data zero-filled.
        static func file(version: UInt32 = 3, kv: Int = 0, kvs: (inout Builder) -> Void = { _ in },
                         tensors: [(String, UInt32, [UInt64], UInt64)], dataBytes: Int, alignment: Int = 32) -> [UInt8] {
            var b = Builder()
            b.bytes += Array("GGUF".utf8)
            b.u32(version)
            b.u64(UInt64(tensors.count))
            b.u64(UInt64(kv))
            kvs(&b)
            for (name, type, ne, off) in tensors {
                b.str(name)
                b.u32(UInt32(ne.count))
                for d in ne { b.u64(d) }
                b.u32(type)
                b.u64(off)
            }
            b.pad(alignment)
            b.bytes += [UInt8](repeating: 0, count: dataBytes)
            return b.bytes
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> ModelHeader {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/x.gguf"
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return try ModelFile(path: p).header
    }

    static func expectError(_ bytes: [UInt8], _ match: (GGUFError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(bytes)
            Issue.record("accepted a malformed file", sourceLocation: sourceLocation)
        } catch let e as GGUFError {
            #expect(match(e), "\(e)", sourceLocation: sourceLocation)
            let m = e.errorDescription ?? ""
            #expect(!m.contains("\n") && m.contains("x.gguf"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func acceptsHandBuiltAndNestedArrays() throws {
        let bytes = Builder.file(kv: 2, kvs: { b in
            b.str("general.architecture"); b.u32(8); b.str("test")
            b.str("nested"); b.u32(9); b.u32(9); b.u64(2)
            b.u32(4); b.u64(2); b.u32(7); b.u32(8)
            b.u32(8); b.u64(1); b.str("x")
        }, tensors: [("a", 0, [4, 2], 0), ("b", 8, [32], 32)], dataBytes: 32 + 34)
        guard case .gguf(let h) = try Self.parse(bytes) else { Issue.record("not gguf"); return }
        #expect(h.architecture == "test")
        guard case .array(let outer)? = h["nested"], case .array(let first) = outer[0], case .array(let second) = outer[1] else {
            Issue.record("nested array missing"); return
        }
        #expect(first[1] == .uint32(8))
        #expect(second[0] == .string("x"))
        #expect(h.tensors.map(\.byteCount) == [32, 34])
        #expect(h.tensors[1].offset == 32)
    }

    @Test func rejectsMalformedFiles() {
        let ok: [(String, UInt32, [UInt64], UInt64)] = [("a", 0, [4], 0)]
        Self.expectError(Builder.file(tensors: ok, dataBytes: 16).enumerated().map { $0.offset == 0 ? 0x46 : $0.element }) {
            if case .badMagic = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(version: 0x0300_0000, tensors: ok, dataBytes: 16)) {
            if case .bigEndian = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(version: 1, tensors: ok, dataBytes: 16)) {
            if case .unsupportedVersion(_, 1) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 2, kvs: { b in
            b.str("k"); b.u32(4); b.u32(1); b.str("k"); b.u32(4); b.u32(2)
        }, tensors: ok, dataBytes: 16)) {
            if case .duplicateKey(_, "k", _) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [4], 0), ("a", 0, [4], 32)], dataBytes: 48)) {
            if case .duplicateTensor(_, "a", _) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [1, 1, 1, 1, 1], 0)], dataBytes: 4)) {
            if case .tooManyDimensions(_, "a", 5) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [1 << 32, 1 << 32], 0)], dataBytes: 4)) {
            if case .elementCountOverflow = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [UInt64(bitPattern: -4)], 0)], dataBytes: 4)) {
            if case .negativeDimension = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 8, [30], 0)], dataBytes: 34)) {
            if case .notBlockMultiple(_, "a", 30, "Q8_0", 32) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 4, [32], 0)], dataBytes: 32)) {
            if case .unknownType(_, "a", 4) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [4], 0), ("b", 0, [4], 16)], dataBytes: 48)) {
            if case .misplacedOffset(_, "b", 16, 32) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [4], 0), ("b", 0, [4], 64)], dataBytes: 80)) {
            if case .misplacedOffset(_, "b", 64, 32) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [4], 0)], dataBytes: 8)) {
            if case .dataTruncated = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [("a", 0, [4], 0)], dataBytes: 40)) {
            if case .trailingBytes = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: [(String(repeating: "n", count: 64), 0, [4], 0)], dataBytes: 16)) {
            if case .nameTooLong = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 1, kvs: { b in b.str("general.alignment"); b.u32(4); b.u32(24) }, tensors: ok, dataBytes: 16)) {
            if case .invalidAlignment = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 1, kvs: { b in b.str("general.alignment"); b.u32(10); b.u64(32) }, tensors: ok, dataBytes: 16)) {
            if case .invalidAlignment = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 1, kvs: { b in b.str("k"); b.u32(13); b.u32(0) }, tensors: ok, dataBytes: 16)) {
            if case .invalidValueType(_, "k", 13, _) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 1, kvs: { b in b.str("k"); b.u32(8); b.u64(1 << 40) }, tensors: ok, dataBytes: 16)) {
            if case .stringTooLong = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 1, kvs: { b in b.str("k"); b.u32(9); b.u32(0); b.u64(1 << 40) }, tensors: ok, dataBytes: 16)) {
            if case .arrayTooLong(_, "k", _, _) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(kv: 1, kvs: { b in
            b.str("k"); b.u32(9)
            for _ in 0..<6 { b.u32(9); b.u64(1) }
            b.u32(0); b.u64(0)
        }, tensors: ok, dataBytes: 16)) {
            if case .nestingTooDeep(_, "k", _) = $0 { return true } else { return false }
        }
        Self.expectError(Builder.file(tensors: ok, dataBytes: 16).prefix(12) + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]) {
            if case .countTooLarge = $0 { return true } else { return false }
        }
    }
}
