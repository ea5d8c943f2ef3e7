import Foundation
import Testing
@testable import PruneKit

/// Issue 12, items 2 and 10: the files a manifest names are regular files inside its folder (unless
/// --allow-outside-paths), devices never hang, messages never show a file's content; a folder as
/// the manifest, a huge shape and a relative path under a symlinked manifest get clear messages.
@Suite("ValueFilePaths") struct ValueFilePathTests {
    static let secret = "SECRET-MARKER root:x:0:0:root:/root:/bin/bash"

    static func line(_ file: String, key: String? = "fact_u") -> String {
        let value = key.map { "{\"file\": \"\(file)\", \"key\": \"\($0)\"}" } ?? "{\"file\": \"\(file)\"}"
        return "{\"kind\": \"lowrank\", \"tensor\": \"\(SafetyTest.sampleTensor)\", \"u\": \(value), \"v\": {\"file\": \"deltas.safetensors\", \"key\": \"fact_v\"}}"
    }

    /// Loads a one-line manifest written into `dir`; the EditError, or nil when it loads.
    static func loadError(_ text: String, in dir: String, allowOutside: Bool = false) -> EditError? {
        let path = dir + "/m-\(UUID().uuidString.prefix(6)).jsonl"
        FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8))
        do {
            _ = try EditManifest.load(path: path, options: ManifestOptions(allowOutsidePaths: allowOutside))
            return nil
        } catch let e as EditError { return e } catch { return nil }
    }

    @Test("absolute paths, .. and symbolic links leading out are refused without --allow-outside-paths")
    func outsideIsRefused() throws {
        let dir = try SafetyTest.scratch()
        let outside = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.copyItem(atPath: dir + "/deltas.safetensors", toPath: outside + "/deltas.safetensors")
        let rel = "../" + URL(fileURLWithPath: outside).lastPathComponent + "/deltas.safetensors"
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.safetensors", withDestinationPath: outside + "/deltas.safetensors")
        for f in [outside + "/deltas.safetensors", rel, "link.safetensors"] {
            let e = try #require(Self.loadError(Self.line(f), in: dir), "\(f) accepted")
            guard case .outsideFolder(_, 1, let file, _) = e else { Issue.record("\(f): \(e)"); continue }
            #expect(file == f)
            #expect(e.errorDescription?.contains("is outside the manifest's folder") == true)
            #expect(e.errorDescription?.contains("--allow-outside-paths") == true)
            // Allowed explicitly, the same files load.
            #expect(Self.loadError(Self.line(f), in: dir, allowOutside: true) == nil, "\(f)")
        }
        // Inside the folder, also through "..", and a link staying inside: fine.
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/inner.safetensors", withDestinationPath: "deltas.safetensors")
        #expect(Self.loadError(Self.line("sub/../deltas.safetensors"), in: dir) == nil)
        #expect(Self.loadError(Self.line("inner.safetensors"), in: dir) == nil)
        // The CLI: refused, nothing written; accepted with the flag.
        let line = Self.line(outside + "/deltas.safetensors")
        try (line + "\n").write(toFile: dir + "/out.jsonl", atomically: true, encoding: .utf8)
        let r = try SafetyTest.run(try SafetyTest.tool("prune-apply"), [SafetyTest.sampleModel, "out.jsonl", "-o", "x.zst"], cwd: dir)
        #expect(r.status == 1 && r.stderr.hasPrefix("prune-apply: out.jsonl:1: "), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.zst") && !FileManager.default.fileExists(atPath: dir + "/out.prune"))
        let ok = try SafetyTest.run(try SafetyTest.tool("prune-apply"),
                                    [SafetyTest.sampleModel, "out.jsonl", "-o", "x.zst", "--allow-outside-paths"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test("devices, pipes and folders are not value files; /dev/zero does not hang")
    func onlyRegularFiles() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/pipe.npy", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: dir + "/folder.npy", withIntermediateDirectories: true)
        for (f, kind) in [("/dev/zero", "a character device"), ("pipe.npy", "a pipe"), ("folder.npy", "a folder")] {
            let e = try #require(Self.loadError(Self.line(f, key: nil), in: dir, allowOutside: true), "\(f)")
            #expect(e == .notARegularFile(manifest: e.manifest, line: 1, file: f, kind: kind), "\(e)")
        }
        // The CLI, with a time limit: an error at once, not a hang.
        try (Self.line("/dev/zero", key: nil) + "\n").write(toFile: dir + "/zero.jsonl", atomically: true, encoding: .utf8)
        let r = try SafetyTest.run(try SafetyTest.tool("prune-apply"),
                                   [SafetyTest.sampleModel, "zero.jsonl", "-o", "x.zst", "--allow-outside-paths"], cwd: dir, timeout: 60)
        #expect(!r.timedOut, "prune-apply hung on /dev/zero")
        #expect(r.status == 1 && r.stderr.contains("\"/dev/zero\" is a character device, not a regular file"), "\(r.stderr)")
    }

    @Test("a file that is not what the manifest says never has its bytes in the message")
    func contentIsNeverEchoed() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (Self.secret + "\n" + Self.secret + "\n").write(toFile: dir + "/passwd", atomically: true, encoding: .utf8)
        let hex = Self.secret.utf8.prefix(8).map { String(format: "%02x", $0) }.joined()
        // The first 8 bytes read as safetensors' little-endian header length.
        let asLength = String(Self.secret.utf8.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        for text in [Self.line("passwd"), Self.line("passwd", key: nil).replacingOccurrences(of: "passwd", with: "passwd.npy")] {
            if text.contains("passwd.npy") { try FileManager.default.copyItem(atPath: dir + "/passwd", toPath: dir + "/passwd.npy") }
            let e = try #require(Self.loadError(text, in: dir))
            let m = try #require(e.errorDescription)
            for fragment in ["SECRET", "root:x", "/bin/bash", hex, hex.uppercased(), "53 45 43", asLength] {
                #expect(!m.contains(fragment), "\(m)")
            }
            #expect(m.contains("passwd"), "\(m)")
        }
    }

    @Test("a folder as the manifest, a huge shape, a relative path under a symlinked manifest")
    func clearMessages() throws {
        let dir = try SafetyTest.scratch()
        let other = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: other) }
        #expect(throws: EditError.unreadableManifest(manifest: dir, reason: "it is a folder, not a JSONL manifest file")) {
            try EditManifest.load(path: dir)
        }
        let r = try SafetyTest.run(try SafetyTest.tool("prune-apply"), [SafetyTest.sampleModel, dir, "-o", "x.zst"], cwd: dir)
        #expect(r.status == 1 && r.stderr.contains("it is a folder, not a JSONL manifest file") && !r.stderr.contains("unreadable"), "\(r.stderr)")

        let huge = "{\"kind\": \"dense\", \"tensor\": \"t\", \"delta\": {\"b64\": \"AAAA\", \"shape\": [3000000000]}}"
        let e = try #require(Self.loadError(huge, in: dir))
        #expect(e.errorDescription?.contains("\"shape\" entry 3000000000 is too large (at most 2147483647)") == true, "\(e)")
        #expect(e.errorDescription?.contains("positive") == false)

        // The manifest as a symbolic link from another folder: relative paths are looked up next to
        // the link, and the message says where and that the target's folder was not searched.
        let link = other + "/linked.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir + "/edits.jsonl")
        do {
            _ = try EditManifest.load(path: link)
            Issue.record("loaded")
        } catch let e as EditError {
            let real = ManifestPaths.realPath(other) ?? other
            #expect(e == .missingFile(manifest: link, line: 1, file: "deltas.safetensors",
                                      searched: "looked in \(real), the folder of the manifest as given; the manifest is a symbolic link to \(ManifestPaths.realPath(dir + "/edits.jsonl") ?? ""), whose folder was not searched"))
        }
        // A plain missing file says where it was looked for too.
        let m = try #require(Self.loadError(Self.line("nowhere.safetensors"), in: dir))
        #expect(m.errorDescription?.contains("no such file \"nowhere.safetensors\" (looked in ") == true, "\(m)")
    }
}
