import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// The malformed-file corpus (Tests/scripts/corpus_make.py, ≥100 files): every file gives exactly
/// one clear error line naming the file and the place, a non-zero exit, no crash and no output.
@Suite(.serialized) struct BadInputCorpusTests {
    struct Entry { var file: String; var kind: String; var expect: String }

    static func makeCorpus() throws -> (dir: String, entries: [Entry]) {
        let dir = try IOTest.tempDir()
        let r = try IOTest.run("/usr/bin/env", ["python3", "Tests/scripts/corpus_make.py", dir, IOTest.fixtures])
        guard r.status == 0 else { throw TestFailure("corpus_make.py failed: \(r.stderr)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/corpus.json"))
        let list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: String]])
        return (dir, list.map { Entry(file: dir + "/" + $0["file"]!, kind: $0["kind"]!, expect: $0["expect"]!) })
    }

    @Test func builtInspectRejectsEveryFile() throws {
        let exe = try IOTest.executable("prune-inspect")
        let (dir, entries) = try Self.makeCorpus()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(entries.count >= 100)
        #expect(Set(entries.map(\.kind)).count >= 20)
        for e in entries {
            let r = try IOTest.run(exe, [e.file])
            #expect(r.status == 1, "\(e.file): exit \(r.status)")
            #expect(r.stdout.isEmpty, "\(e.file)")
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2 && lines[1].isEmpty, "\(e.file): \(r.stderr)")
            let line = String(lines.first ?? "")
            #expect(line.hasPrefix("prune-inspect: " + e.file + ": "), "\(line)")
            #expect(line.hasSuffix(")"), "\(line)")   // every message ends with its place
            #expect(e.expect.isEmpty || line.lowercased().contains(e.expect), "\(e.kind): expected '\(e.expect)' in \(line)")
        }
        // Also through stdin for the compressed ones: the message names <stdin>.
        for e in entries where e.file.hasSuffix(".zst") {
            let r = try IOTest.run(exe, ["-"], stdinFile: e.file)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("prune-inspect: <stdin>: ") && r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)")
        }
    }

    @Test func libraryRejectsEveryFileAndWritesNothing() throws {
        let (dir, entries) = try Self.makeCorpus()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outDir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: outDir) }
        for e in entries {
            for compress in [true, false] {
                do {
                    try ModelRewriter(input: e.file, output: .file(outDir + "/out"), options: OutputOptions(compress: compress)).run()
                    Issue.record("\(e.file): accepted")
                } catch {
                    let m = (error as? LocalizedError)?.errorDescription ?? ""
                    #expect(m.hasPrefix(e.file + ": ") && !m.contains("\n"), "\(m)")
                    #expect(e.expect.isEmpty || m.lowercased().contains(e.expect), "\(e.kind): \(m)")
                }
                #expect(try FileManager.default.contentsOfDirectory(atPath: outDir).isEmpty, "\(e.file) left output")
            }
            #expect(throws: (any Error).self) { try ModelFile(path: e.file) }
        }
    }
}
