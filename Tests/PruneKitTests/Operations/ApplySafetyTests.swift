import Foundation
import Testing

/// Issue 12, items 3 and 6–13, on the real executables: inputs are never overwritten, destinations
/// are checked before the model is read, messages name the user's paths, a damaged sidecar reads
/// the same everywhere, model data never goes to a terminal, and the command-line conventions hold.
@Suite("ApplySafety") struct ApplySafetyTests {
    var apply: String { get throws { try SafetyTest.tool("prune-apply") } }
    var revert: String { get throws { try SafetyTest.tool("prune-revert") } }

    @Test("-o and --sidecar may not replace any file the manifest refers to, nor each other")
    func referencedFilesAreInputs() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = SafetyTest.sampleModel
        let before = try SafetyTest.sha256(dir + "/deltas.safetensors")
        let cases: [([String], String)] = [
            ([m, "edits.jsonl", "-o", "deltas.safetensors"],
             "deltas.safetensors: -o would overwrite an input: the file \"deltas.safetensors\" of manifest line 1"),
            ([m, "edits.jsonl", "-o", "x.zst", "--sidecar", "./deltas.safetensors"],
             "./deltas.safetensors: --sidecar would overwrite an input: the file \"deltas.safetensors\" of manifest line 1"),
            ([m, "edits.jsonl", "-o", "x.zst", "--sidecar", "x.zst"],
             "x.zst: --sidecar and -o name the same file; each output needs a file of its own"),
            ([m, "edits.jsonl", "-o", m], "\(m): -o would overwrite an input: the model"),
            ([m, "edits.jsonl", "-o", "edits.jsonl"], "edits.jsonl: -o would overwrite an input: the manifest"),
            ([SafetyTest.sampleGGUF, "lora.jsonl", "-o", "lora/adapter_model.safetensors"],
             "lora/adapter_model.safetensors: -o would overwrite an input: the file \"lora/adapter_model.safetensors\" of manifest line 1"),
        ]
        for (args, message) in cases {
            let r = try SafetyTest.run(try apply, args, cwd: dir)
            #expect(r.status == 1, "\(args): \(r.stderr)")
            #expect(r.stderr == "prune-apply: \(message)\n", "\(args)")
            #expect(!r.stderr.contains("(path)"))
        }
        #expect(try SafetyTest.sha256(dir + "/deltas.safetensors") == before)
        // The sidecar continued, and revert's inputs.
        let ok = try SafetyTest.run(try apply, [m, "edits.jsonl", "-o", "e.zst"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        let c = try SafetyTest.run(try apply, ["e.zst", "more.jsonl", "--continue", "edits.prune", "-o", "e2.zst", "--sidecar", "edits.prune"], cwd: dir)
        #expect(c.stderr == "prune-apply: edits.prune: --sidecar would overwrite an input: the sidecar given to --continue\n", "\(c.stderr)")
        let rv = try SafetyTest.run(try revert, ["e.zst", "edits.prune", "-o", "edits.prune"], cwd: dir)
        #expect(rv.stderr == "prune-revert: edits.prune: -o would overwrite an input: the sidecar\n", "\(rv.stderr)")
        // The sidecar next to the manifest, when it is a value file (a manifest named deltas.jsonl).
        try FileManager.default.moveItem(atPath: dir + "/deltas.safetensors", toPath: dir + "/deltas.prune")
        try String(contentsOfFile: dir + "/edits.jsonl", encoding: .utf8).replacingOccurrences(of: "deltas.safetensors", with: "deltas.prune")
            .write(toFile: dir + "/deltas.jsonl", atomically: true, encoding: .utf8)
        let r = try SafetyTest.run(try apply, [m, "deltas.jsonl", "-o", "x.zst"], cwd: dir)
        #expect(r.stderr == "prune-apply: deltas.prune: the sidecar (next to the manifest) would overwrite an input: the file \"deltas.prune\" of manifest line 1\n", "\(r.stderr)")
    }

    /// A model path that would block forever if it were opened: a FIFO no one writes to.
    static func blockingModel(in dir: String) throws -> String {
        let p = dir + "/model.fifo"
        guard mkfifo(p, 0o644) == 0 else { throw ReportTest.Failure("mkfifo") }
        return p
    }

    @Test("every destination is checked before the model is read")
    func destinationsCheckedFirst() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.blockingModel(in: dir)
        try FileManager.default.createDirectory(atPath: dir + "/afolder", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/afile", contents: Data("x".utf8))
        let cases: [([String], String)] = [
            (["--sidecar", "missing/x.prune", "-o", "x.zst"], "missing/x.prune: cannot write the sidecar (--sidecar) here: missing: No such file or directory"),
            (["--sidecar", "afile/x.prune", "-o", "x.zst"], "afile/x.prune: cannot write the sidecar (--sidecar) here: afile is not a folder"),
            (["-o", "afolder"], "afolder: cannot write the model (-o) here: it is a folder"),
            (["-o", "missing/out.zst"], "missing/out.zst: cannot write the model (-o) here: missing: No such file or directory"),
        ]
        for (extra, message) in cases {
            let r = try SafetyTest.run(try apply, [model, "edits.jsonl"] + extra, cwd: dir, timeout: 60)
            #expect(!r.timedOut, "\(extra): the model was opened before the destinations were checked")
            #expect(r.stderr == "prune-apply: \(message) (checked before reading the model)\n", "\(extra)")
        }
        // A read-only folder. Root may write anywhere, so as root the run is made as nobody.
        try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir + "/ro")
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir)
        var argv = [try apply, model, "edits.jsonl", "-o", "x.zst", "--sidecar", "ro/x.prune"]
        if getuid() == 0 { argv = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv }
        let r = try SafetyTest.run(argv[0], Array(argv.dropFirst()), cwd: dir, timeout: 60)
        #expect(!r.timedOut)
        #expect(r.stderr == "prune-apply: ro/x.prune: cannot write the sidecar (--sidecar) here: ro: Permission denied (checked before reading the model)\n", "\(r.stderr)")
        #expect(try SafetyTest.hiddenFiles(dir).isEmpty && !FileManager.default.fileExists(atPath: dir + "/x.zst"))
        // Revert and diff --sidecar check theirs first too.
        let made = try SafetyTest.run(try apply, [SafetyTest.sampleModel, "edits.jsonl", "-o", "e.zst", "--sidecar", "e.prune"], cwd: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let rv = try SafetyTest.run(try revert, [model, "e.prune", "-o", "missing/base"], cwd: dir, timeout: 60)
        #expect(!rv.timedOut)
        #expect(rv.stderr == "prune-revert: missing/base: cannot write the model (-o) here: missing: No such file or directory (checked before reading the model)\n", "\(rv.stderr)")
        let df = try SafetyTest.run(try SafetyTest.tool("prune-diff"), [model, SafetyTest.sampleModel, "--sidecar", "missing/d.prune"], cwd: dir, timeout: 60)
        #expect(!df.timedOut)
        #expect(df.stderr == "prune-diff: missing/d.prune: cannot write the sidecar (--sidecar) here: missing: No such file or directory (checked before reading the model)\n", "\(df.stderr)")
    }

    @Test("a write error names the -o path, never the temporary file; nothing is left behind")
    func errorsNameTheUsersPath() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A file size limit makes the write fail part way (SIGXFSZ ignored: write(2) returns EFBIG).
        let r = try SafetyTest.run("/bin/bash", ["-c", "trap '' XFSZ; ulimit -f 2048; exec '\(try apply)' '\(SafetyTest.sampleModel)' edits.jsonl -o out.safetensors --no-compress"], cwd: dir)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("prune-apply: out.safetensors: write failed (File too large)"), "\(r.stderr)")
        #expect(!r.stderr.contains("staging") && !r.stderr.contains("prune-tmp"), "\(r.stderr)")
        #expect(try SafetyTest.hiddenFiles(dir).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.safetensors") && !FileManager.default.fileExists(atPath: dir + "/edits.prune"))
    }

    @Test("a damaged sidecar reads the same in prune-apply, prune-audit and prune-revert")
    func damagedSidecarWording() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ok = try SafetyTest.run(try apply, [SafetyTest.sampleModel, "edits.jsonl", "-o", "e.zst"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/edits.prune")))
        let headerLength = Int(good[0]) | Int(good[1]) << 8 | Int(good[2]) << 16
        var damages: [(String, [UInt8])] = []
        var b = good; b[0] ^= 0xFF; damages.append(("header length", b))
        b = good; b[7] = 0x41; damages.append(("header length, high byte", b))
        b = good; b[8 + 1] = UInt8(ascii: "#"); damages.append(("header JSON", b))
        b = good; b[8 + headerLength / 2] ^= 0x20; damages.append(("header middle", b))
        b = good; b[b.count - 3] ^= 0x55; damages.append(("data", b))
        damages.append(("truncated", Array(good.prefix(good.count / 2))))
        damages.append(("short", Array(good.prefix(5))))
        for (what, bytes) in damages {
            let path = dir + "/damaged.prune"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let a = try SafetyTest.run(try apply, [SafetyTest.sampleModel, "damaged.prune", "-o", "r.zst"], cwd: dir)
            let au = try SafetyTest.run(try SafetyTest.tool("prune-audit"), ["damaged.prune"], cwd: dir)
            let rv = try SafetyTest.run(try revert, ["e.zst", "damaged.prune", "-o", "back"], cwd: dir)
            let messages = [a.stderr.replacingOccurrences(of: "prune-apply: ", with: ""),
                            au.stderr.replacingOccurrences(of: "prune-audit: ", with: ""),
                            rv.stderr.replacingOccurrences(of: "prune-revert: ", with: "")]
            #expect(a.status == 1 && au.status == 1 && rv.status == 1, "\(what)")
            #expect(Set(messages).count == 1, "\(what): \(messages)")
            #expect(messages[0].hasPrefix("damaged.prune: ") && messages[0].contains("sidecar"), "\(what): \(messages[0])")
            #expect(!messages[0].contains("overwrite") && !messages[0].contains("invalid JSON"), "\(what): \(messages[0])")
        }
    }

    @Test("model data is refused on a terminal, compressed or not, and nothing is written")
    func noModelDataOnATerminal() throws {
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "/usr/bin/script"
        #expect(FileManager.default.isExecutableFile(atPath: script), "script(1) (bsdutils) is needed for this test")
        let ok = try SafetyTest.run(try apply, [SafetyTest.sampleModel, "edits.jsonl", "-o", "e.zst", "--sidecar", "e.prune"], cwd: dir)
        #expect(ok.status == 0)
        for command in ["'\(try apply)' '\(SafetyTest.sampleModel)' edits.jsonl --no-compress",
                        "'\(try apply)' '\(SafetyTest.sampleModel)' edits.jsonl",
                        "'\(try revert)' e.zst e.prune",
                        "'\(try revert)' e.zst e.prune --compress"] {
            let r = try SafetyTest.run(script, ["-qec", command, "/dev/null"], cwd: dir, timeout: 120)
            #expect(r.status == 1, "\(command): \(r.stdout)")
            #expect(r.stdout.contains("refusing to write model data to a terminal"), "\(command): \(r.stdout)")
            #expect(r.stdout.utf8.count < 400, "\(command) wrote \(r.stdout.utf8.count) bytes to the terminal")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/edits.prune"))
    }

    @Test("--version, own names in --help, prune subcommands, --level range, prune without arguments")
    func commandLineConventions() throws {
        for tool in ["prune-apply", "prune-revert", "prune-diff", "prune-audit", "prune-inspect", "prune"] {
            let v = try SafetyTest.run(try SafetyTest.tool(tool), ["--version"])
            #expect(v.status == 0 && v.stdout == "0.1.0\n", "\(tool): \(v.status) \(v.stdout) \(v.stderr)")
        }
        for tool in ["prune-apply", "prune-revert", "prune-diff", "prune-audit", "prune-inspect"] {
            let h = try SafetyTest.run(try SafetyTest.tool(tool), ["--help"])
            #expect(h.status == 0 && h.stdout.contains("USAGE: \(tool) "), "\(tool): \(h.stdout)")
            let bad = try SafetyTest.run(try SafetyTest.tool(tool), ["--no-such-option"])
            #expect(bad.status == 64 && bad.stderr.contains("See '\(tool) --help'"), "\(tool): \(bad.stderr)")
        }
        for sub in ["apply", "revert", "diff", "audit", "inspect"] {
            let h = try SafetyTest.run(try SafetyTest.tool("prune"), [sub, "--help"])
            #expect(h.status == 0 && h.stdout.contains("USAGE: prune \(sub) "), "\(sub): \(h.stdout)")
        }
        // The subcommand form still works.
        let dir = try SafetyTest.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sub = try SafetyTest.run(try SafetyTest.tool("prune"), ["apply", SafetyTest.sampleModel, "edits.jsonl", "-o", "e.zst"], cwd: dir)
        #expect(sub.status == 0 && sub.stderr.hasPrefix("prune-apply: edited 1 tensor"), "\(sub.stderr)")
        let back = try SafetyTest.run(try SafetyTest.tool("prune"), ["revert", "e.zst", "edits.prune", "-o", "base"], cwd: dir)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try SafetyTest.sha256(dir + "/base") == (try SafetyTest.sha256(SafetyTest.sampleModel)))

        // --level: the help, the check and the message give one range, 1-19.
        for tool in ["prune-apply", "prune-revert"] {
            let h = try SafetyTest.run(try SafetyTest.tool(tool), ["--help"])
            #expect(h.stdout.contains("zstd compression level (1-19)"), "\(tool): \(h.stdout)")
            for bad in ["0", "20", "22"] {
                let r = try SafetyTest.run(try SafetyTest.tool(tool), ["a", "b", "--level", bad])
                #expect(r.status == 64 && r.stderr.contains("--level must be 1-19, not \(bad)"), "\(tool) \(bad): \(r.stderr)")
            }
            // 19 passes the check (the run then fails on the missing files, with status 1).
            let r = try SafetyTest.run(try SafetyTest.tool(tool), ["/nonexistent/a", "/nonexistent/b", "--level", "19", "-o", "x"], cwd: dir)
            #expect(r.status == 1, "\(tool): \(r.stderr)")
        }
        // prune without a command is bad usage (prune(1)): status 64, the summary on standard error.
        let bare = try SafetyTest.run(try SafetyTest.tool("prune"), [])
        #expect(bare.status == 64 && bare.stdout.isEmpty && bare.stderr.contains("USAGE: prune <subcommand>"), "\(bare.status) \(bare.stderr)")
    }
}
