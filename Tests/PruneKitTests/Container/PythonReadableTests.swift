import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// What the rewriter writes opens in Python's `safetensors` and `gguf` readers with the same tensors.
@Suite struct PythonReadableTests {
    @Test(arguments: IOTest.allFixtures)
    func writtenFileOpensInPython(fixture: String) throws {
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tensors = try ModelFile(path: fixture).tensors
        // Change two tensors (bytes reversed in whole elements/blocks keeps them valid enough for
        // readers that only slice bytes): swap the first and second halves of each.
        let changed = [tensors[0].name, tensors[tensors.count - 1].name]
        let out = dir + "/out.zst"
        let summary = try ModelRewriter(input: fixture, output: .file(out)).run(
            select: { _ in Set(changed) },
            transform: { _, b in
                let half = b.count / 2
                return Array(b[half...]) + Array(b[..<half])
            })
        #expect(summary.replaced.count == 2)
        let plain = out + ".plain"
        #expect(try IOTest.sh("zstd -q -d '\(out)' -o '\(plain)'").status == 0)
        let r = try IOTest.run("/usr/bin/env", ["python3", "Tests/scripts/io_check_readable.py", fixture, plain] + changed)
        #expect(r.status == 0, "\(String(decoding: r.stdout, as: UTF8.self)) \(r.stderr)")
        let result = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]
        #expect(result?["ok"] as? Bool == true)
        #expect(result?["tensors"] as? Int == tensors.count)
    }
}
