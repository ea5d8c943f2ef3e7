import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

@Suite struct ModelRewriterTests {
    enum Via: String, CaseIterable { case file, pipe, zst }

    /// Decompresses with the zstd CLI when needed and returns the plain output path.
    static func plainOutput(_ out: String, compressed: Bool) throws -> String {
        guard compressed else { return out }
        let plain = out + ".plain"
        let r = try IOTest.sh("zstd -q -d -f '\(out)' -o '\(plain)'")
        guard r.status == 0 else { throw TestFailure("zstd -d failed: \(r.stderr)") }
        return plain
    }

    /// The identity property: an empty rewrite reproduces every fixture byte for byte, plain and
    /// compressed, read from a file, a pipe and a .zst file. Checked with sha256sum and cmp.
    @Test(arguments: IOTest.allFixtures)
    func identity(fixture: String) throws {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let expected = try IOTest.sha256sum(fixture)
        let zst = dir + "/in.zst"
        try IOTest.zstdCompress(fixture, to: zst, extra: "-1")
        for via in Via.allCases {
            for compress in [true, false] {
                let input: String
                switch via {
                case .file: input = fixture
                case .pipe: input = try IOTest.fifo(feeding: fixture, in: dir)
                case .zst: input = zst
                }
                let out = dir + "/out-\(via)-\(compress)"
                let summary = try ModelRewriter(input: input, output: .file(out),
                                                options: OutputOptions(compress: compress, level: 1, threads: 2)).run()
                #expect(summary.inputSHA256 == expected, "\(via) \(compress)")
                #expect(summary.outputSHA256 == expected)
                #expect(summary.inputWasCompressed == (via == .zst))
                #expect(summary.replaced.isEmpty)
                let plain = try Self.plainOutput(out, compressed: compress)
                #expect(try IOTest.sha256sum(plain) == expected, "\(via) compress=\(compress)")
                #expect(try IOTest.sh("cmp -s '\(plain)' '\(fixture)'").status == 0)
                if compress {
                    // really compressed: starts with the zstd magic
                    let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: out)).read(upToCount: 4)
                    #expect(head.map(Array.init) == [0x28, 0xB5, 0x2F, 0xFD])
                }
            }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("prune-tmp") }
        #expect(leftovers.isEmpty)
    }

    /// Replacing one tensor changes exactly that tensor; digests and output hash are right.
    @Test(arguments: [IOTest.fixture("gpt2-tiny", "model.safetensors"), IOTest.fixture("llama-tiny", "model-q4_k_m.gguf")])
    func replacesOneTensor(fixture: String) throws {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try ModelFile(path: fixture)
        let target = original.tensors[original.tensors.count / 2]
        let keep = original.tensors[1]
        let out = dir + "/out.zst"
        let summary = try ModelRewriter(input: fixture, output: .file(out)).run(
            select: { _ in [target.name, keep.name] },
            transform: { t, bytes in t.name == target.name ? Array(bytes.reversed()) : nil })
        #expect(summary.replaced == [target.name])
        let plain = try Self.plainOutput(out, compressed: true)
        #expect(try IOTest.sha256sum(plain) == summary.outputSHA256)
        #expect(summary.outputSHA256 != summary.inputSHA256)
        #expect(summary.inputSHA256 == (try IOTest.sha256sum(fixture)))
        let edited = try ModelFile(path: out)
        #expect(edited.tensors == original.tensors)
        for t in original.tensors {
            let a = try original.data(for: t.name), b = try edited.data(for: t.name)
            if t.name == target.name {
                #expect(b == Array(a.reversed()))
                #expect(summary.tensors[t.name] == TensorDigest(input: SHA256Hasher.hex(a), output: SHA256Hasher.hex(b), replaced: true))
            } else {
                #expect(a == b, "\(t.name)")
            }
        }
        #expect(summary.tensors[keep.name]?.replaced == false)
        #expect(summary.tensors[keep.name]?.input == SHA256Hasher.hex(try original.data(for: keep.name)))
        // Independent reader: the python reference sees the same tensor bytes.
        let ref = try #require(IOTest.python("io_reference.py", [plain]) as? [String: Any])
        let refTensors = try #require(ref["tensors"] as? [[String: Any]])
        let refTarget = refTensors.first { $0["name"] as? String == target.name }
        #expect(refTarget?["sha256"] as? String == summary.tensors[target.name]?.output)
    }

    @Test func compressedOutputIsIndependentOfThreadCount() throws {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = IOTest.fixture("llama-tiny", "model-f32.gguf")
        var outputs: [Data] = []
        for threads in [1, 2, 3] {
            let out = dir + "/t\(threads).zst"
            try ModelRewriter(input: fixture, output: .file(out), options: OutputOptions(level: 3, threads: threads)).run()
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[1] == outputs[2])
        #expect(outputs[0].count < 21073472 * 95 / 100)
    }

    @Test func errorsLeaveNoOutput() throws {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = IOTest.fixture("gpt2-tiny", "model.safetensors")
        let out = dir + "/out.zst"
        let first = try ModelFile(path: fixture).tensors[0]
        #expect(throws: ContainerError.replacementWrongSize(path: fixture, tensor: first.name, expected: first.byteCount, got: 3)) {
            try ModelRewriter(input: fixture, output: .file(out)).run(select: { _ in [first.name] }, transform: { _, _ in [1, 2, 3] })
        }
        #expect(throws: ContainerError.tensorNotFound(path: fixture, name: "nope")) {
            try ModelRewriter(input: fixture, output: .file(out)).run(select: { _ in ["nope"] })
        }
        // A truncated input fails mid-stream (the header is fine): the temp file is removed.
        let cut = dir + "/cut.safetensors"
        #expect(try IOTest.sh("head -c 9000000 '\(fixture)' > '\(cut)'").status == 0)
        let fifo = try IOTest.fifo(feeding: cut, in: dir)
        #expect(throws: ContainerError.self) { try ModelRewriter(input: fifo, output: .file(out)).run() }
        // Overwriting the input is refused, also through another name.
        let copy = dir + "/copy.safetensors"
        try FileManager.default.copyItem(atPath: fixture, toPath: copy)
        let link = dir + "/link.safetensors"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: copy)
        #expect(throws: ContainerError.outputIsInput(path: link)) {
            try ModelRewriter(input: copy, output: .file(link)).run()
        }
        #expect(try IOTest.sha256sum(copy) == IOTest.sha256sum(fixture))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(!names.contains("out.zst"))
        #expect(names.allSatisfy { !$0.contains("prune-tmp") }, "\(names)")
    }
}
