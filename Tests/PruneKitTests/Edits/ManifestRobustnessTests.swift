import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Mutated manifests never trap and never fail with anything but an `EditError` naming a line.
@Suite struct ManifestRobustnessTests {
    static let seeds: [String] = [
        "{\"kind\": \"lowrank\", \"id\": \"a\", \"tensor\": \"w\", \"u\": [[1, 2], [3, 4], [5, 6]], \"v\": [[1, -2], [0.5, 1e-3]], \"scale\": 2}",
        "{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"b64\": \"AACAPwAAAEAAAEBA\", \"shape\": [3]}}",
        "{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": [[1, 2], [3, 4], [5, 6]], \"scale\": -1.5e-2}",
        "{\"kind\": \"lora\", \"adapter\": \"none\", \"scale\": 1}",
    ]

    @Test func mutatedManifestsFailCleanly() throws {
        var rng = SplitMix(seed: 2026)
        let alphabet = Array("{}[]\",:0123456789.eE-+ abnNIuvkdlsftr\\\n\r\t".utf8) + [0x00, 0xC3, 0xFF]
        var accepted = 0, rejected = 0
        for i in 0..<3000 {
            var bytes = Array(Self.seeds.joined(separator: "\n").utf8)
            let edits = Int(rng.next() % 4) + 1
            for _ in 0..<edits {
                guard !bytes.isEmpty else { break }
                let at = Int(rng.next() % UInt64(bytes.count))
                let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 4 {
                case 0: bytes[at] = c
                case 1: bytes.insert(c, at: at)
                case 2: bytes.remove(at: at)
                default: bytes.removeSubrange(at...)
                }
            }
            do {
                let m = try EditManifest.parse(bytes: bytes, path: "fuzz.jsonl", folder: URL(fileURLWithPath: "/nonexistent"))
                _ = try m.resolve(against: ManifestParserTests.plain)
                accepted += 1
            } catch let e as EditError {
                rejected += 1
                let msg = e.errorDescription ?? ""
                #expect(msg.hasPrefix("fuzz.jsonl:"), "case \(i): \(msg)")
                #expect(!msg.contains("\n") && !msg.contains("\r"), "case \(i): \(msg)")
                #expect(e.line.map { $0 >= 1 && $0 <= bytes.filter { $0 == 0x0A }.count + 1 } ?? false, "case \(i): \(msg)")
            } catch {
                Issue.record("case \(i): non-EditError \(error)")
            }
        }
        #expect(rejected > 1000)   // the mutations do break most manifests
        #expect(accepted + rejected == 3000)
    }
}
