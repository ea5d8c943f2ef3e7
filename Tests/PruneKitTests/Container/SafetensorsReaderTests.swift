import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite struct SafetensorsReaderTests {
    /// Every tensor's name, dtype, shape, offset, size and bytes agree with Python's safetensors.
    @Test(arguments: IOTest.models)
    func matchesPythonSafetensors(model: String) throws {
        let path = IOTest.fixture(model, "model.safetensors")
        let ref = try #require(IOTest.python("io_reference.py", [path]) as? [String: Any])
        let refTensors = try #require(ref["tensors"] as? [[String: Any]])
        let file = try SafetensorsFile(path: path)
        #expect(file.tensors.count == refTensors.count)
        #expect(file.tensors.count > 10)
        for (t, r) in zip(file.tensors, refTensors) {
            #expect(t.name == r["name"] as? String)
            #expect(t.type.description == r["dtype"] as? String)
            #expect(t.shape == r["shape"] as? [Int])
            #expect(t.offset == r["offset"] as? Int)
            #expect(t.byteCount == r["bytes"] as? Int)
            let sha = try file.withData(for: t.name) { SHA256Hasher.hex($0) }
            #expect(sha == r["sha256"] as? String, "\(t.name)")
        }
        let refMeta = ref["metadata"] as? [String: String]
        #expect(Dictionary(uniqueKeysWithValues: file.metadata.map { ($0.key, $0.value) }) == (refMeta ?? [:]))
        #expect(file.header.fileLength == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
    }

    /// The same file through zstd (multi-frame) and through a pipe gives the same header and bytes.
    @Test func compressedAndPipedInputAgree() throws {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = IOTest.fixture("gpt2-tiny", "model.safetensors")
        let plain = try SafetensorsFile(path: path)
        let zst = dir + "/m.safetensors.zst"
        // Two frames: split the file and compress each half separately, then concatenate.
        let r = try IOTest.sh("head -c 5000000 '\(path)' | zstd -q -c > '\(zst)' && tail -c +5000001 '\(path)' | zstd -q -c >> '\(zst)'")
        #expect(r.status == 0)
        let fromZst = try SafetensorsFile(path: zst)
        #expect(fromZst.wasCompressed)
        let fifo = try IOTest.fifo(feeding: path, in: dir)
        let fromPipe = try SafetensorsFile(path: fifo)
        for other in [fromZst, fromPipe] {
            #expect(other.tensors == plain.tensors)
            #expect(other.metadata == plain.metadata)
            for t in plain.tensors.prefix(6) {
                #expect(try other.data(for: t.name) == plain.data(for: t.name))
            }
        }
    }

    // MARK: validation

    /// A safetensors file from a header dictionary written as raw JSON text and a data section.
    static func make(_ json: String, data: [UInt8], lengthOverride: UInt64? = nil) -> [UInt8] {
        let h = Array(json.utf8)
        let n = lengthOverride ?? UInt64(h.count)
        var out = (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) }
        out += h
        out += data
        return out
    }

    static func parse(_ bytes: [UInt8]) throws -> SafetensorsHeader {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/x.safetensors"
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return try SafetensorsFile(path: p).header
    }

    static func expectError(_ bytes: [UInt8], _ match: (SafetensorsError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(bytes)
            Issue.record("accepted a malformed file", sourceLocation: sourceLocation)
        } catch let e as SafetensorsError {
            #expect(match(e), "\(e)", sourceLocation: sourceLocation)
            #expect(!(e.errorDescription ?? "").contains("\n"), sourceLocation: sourceLocation)
            #expect((e.errorDescription ?? "").contains("x.safetensors"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func acceptsWellFormedWithMetadataInOrder() throws {
        let h = try Self.parse(Self.make(#"{"__metadata__":{"z":"1","a":"2"},"b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}  "#, data: Array(0..<8)))
        #expect(h.metadata == [MetadataEntry(key: "z", value: "1"), MetadataEntry(key: "a", value: "2")])
        #expect(h.tensors.map(\.name) == ["a", "b"])
        #expect(h.headerOrder == ["b", "a"])
    }

    @Test func rejectsMalformedHeaders() {
        let u8 = #""dtype":"U8","shape":[4]"#
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4]},"a":{\#(u8),"data_offsets":[4,8]}}"#, data: Array(0..<8))) {
            if case .duplicateTensor(_, "a", _) = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4]},"b":{\#(u8),"data_offsets":[5,9]}}"#, data: Array(0..<9))) {
            if case .gap(_, "b", 4, 5) = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#, data: Array(0..<6))) {
            if case .overlap(_, "b", "a", 2) = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4]},"b":{\#(u8),"data_offsets":[0,4]}}"#, data: Array(0..<4))) {
            if case .alias = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4]}}"#, data: Array(0..<5))) {
            if case .trailingBytes(_, _, "1") = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4]}}"#, data: Array(0..<3))) {
            if case .dataTruncated = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,4]}}"#, data: Array(0..<4))) {
            if case .sizeMismatch(_, "a", 16, 4) = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: Array(0..<4))) {
            if case .sizeOverflow = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}"#, data: Array(0..<4))) {
            if case .unknownDType(_, "a", "F31") = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, data: Array(0..<2))) {
            if case .partialBytes = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"__metadata__":{"k":1}}"#, data: [])) {
            if case .invalidMetadata(_, "k", _) = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[4,0]}}"#, data: Array(0..<4))) {
            if case .invalidOffsets = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{"a":{\#(u8),"data_offsets":[0,4],}}"#, data: Array(0..<4))) {
            if case .invalidJSON = $0 { return true } else { return false }
        }
        Self.expectError(Self.make("{\"a\u{FF}\":1}", data: []).enumerated().map { $0.offset == 11 ? 0xFF : $0.element }) {
            if case .headerNotUTF8 = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"[]"#, data: [])) {
            if case .headerNotObject = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{}"#, data: [], lengthOverride: 100_000_001)) {
            if case .headerTooLarge = $0 { return true } else { return false }
        }
        Self.expectError(Self.make(#"{}"#, data: [], lengthOverride: 50)) {
            if case .headerBeyondEnd = $0 { return true } else { return false }
        }
    }
}
