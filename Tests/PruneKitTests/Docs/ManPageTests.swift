import Foundation
import Testing

/// Every page in man/ is lint-clean (mandoc warnings and worse), has EXAMPLES and EXIT STATUS, and
/// each section-1 page documents every option and subcommand its program's --help prints, so the
/// pages cannot fall behind the command definitions.
@Suite("ManPages") struct ManPageTests {
    static var manDir: String { ReportTest.packageRoot.appendingPathComponent("man").path }

    static func pages() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: manDir).filter { $0.range(of: #"\.[1-8]$"#, options: .regularExpression) != nil }.sorted()
    }

    @Test("the pages this area owns exist")
    func ownedPagesExist() throws {
        let pages = try Self.pages()
        for p in ["prune.1", "prune-diff.1", "prune-audit.1", "prune-inspect.1"] { #expect(pages.contains(p), "\(p) missing") }
    }

    @Test("mandoc -Tlint reports no warning or error on any page; each has EXAMPLES and EXIT STATUS")
    func lint() throws {
        let pages = try Self.pages()
        #expect(!pages.isEmpty)
        for page in pages {
            let path = Self.manDir + "/" + page
            let r = try ReportTest.run("/usr/bin/env", ["mandoc", "-Tlint", "-W", "warning", path])
            #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(page): \(r.stdout)\(r.stderr)")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains("\n.Sh EXAMPLES\n"), "\(page) has no EXAMPLES section")
            if page.hasSuffix(".1") { #expect(text.contains("\n.Sh EXIT STATUS\n"), "\(page) has no EXIT STATUS section") }
        }
    }

    /// Long options (`--json`), short options (`-o`) and subcommands printed by `--help`.
    static func helpItems(_ help: String) -> (long: Set<String>, short: Set<String>, subcommands: Set<String>) {
        var long = Set<String>(), short = Set<String>(), subs = Set<String>()
        var section = ""
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, !first.isWhitespace, line.hasSuffix(":") { section = String(line); continue }
            let trimmed = line.drop { $0 == " " }
            // Terms start at column 2; deeper lines continue a description.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), !trimmed.isEmpty, !trimmed.hasPrefix("See '") else { continue }
            // Only the term column (before two spaces of padding) names options or subcommands.
            let term = trimmed.components(separatedBy: "  ").first ?? ""
            if section == "OPTIONS:" {
                for m in term.matches(of: /(?:^|[\s,])--([a-z][a-z0-9-]*)/) { long.insert(String(m.1)) }
                for m in term.matches(of: /(?:^|[\s,])-([a-zA-Z])(?:[\s,]|$)/) { short.insert(String(m.1)) }
            } else if section == "SUBCOMMANDS:" {
                if let name = term.split(separator: " ").first { subs.insert(String(name)) }
            }
        }
        return (long, short, subs)
    }

    @Test("every option and subcommand --help prints is documented in the program's page")
    func optionsDocumented() throws {
        for page in try Self.pages() where page.hasSuffix(".1") {
            let program = String(page.dropLast(2))
            let exe = try ReportTest.binary(program)
            let help = try ReportTest.run(exe, ["--help"])
            #expect(help.status == 0, "\(program) --help failed")
            let text = try String(contentsOfFile: Self.manDir + "/" + page, encoding: .utf8)
            let items = Self.helpItems(help.stdout)
            #expect(items.long.contains("help"), "\(program): could not read --help")
            // --help, -h and --version are ArgumentParser's own; pages may leave them out.
            for o in items.long where o != "help" && o != "version" {
                #expect(text.contains("Fl -\(o)") || text.contains("Fl Fl \(o)"), "\(page) does not document --\(o)")
            }
            for o in items.short where o != "h" {
                #expect(text.contains("Fl \(o)"), "\(page) does not document -\(o)")
            }
            for s in items.subcommands where s != "help" {
                #expect(text.contains("Cm \(s)"), "\(page) does not document the subcommand \(s)")
            }
        }
    }
}
