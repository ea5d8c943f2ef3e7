import Foundation

/// Where the tests find the package, the shared fixtures, built executables and scratch space.
/// Every area's helper enum (FactTest, RuntimeTest, …) goes through these, so that there is one
/// rule for each: fixtures from `$PRUNE_FIXTURES` or `../shared/fixtures`, a missing fixture is a
/// failure (never a skip), and every scratch folder is new and UUID-named (tests run in parallel).
enum TestEnvironment {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared fixtures folder.
    static var fixtures: String {
        if let e = ProcessInfo.processInfo.environment["PRUNE_FIXTURES"], !e.isEmpty { return e }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }

    /// `fixtures/<relative>`; throws (so the test fails) when it is absent.
    static func fixture(_ relative: String) throws -> String {
        let p = relative.isEmpty ? fixtures : fixtures + "/" + relative
        guard FileManager.default.fileExists(atPath: p) else { throw TestFailure("fixture missing: \(p)") }
        return p
    }

    /// `fixtures/<model>/<file>` (the model folder itself when `file` is empty).
    static func fixture(_ model: String, _ file: String) throws -> String {
        try fixture(file.isEmpty ? model : model + "/" + file)
    }

    /// A checked-in resource of the tests.
    static func resource(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/PruneKitTests/Resources/" + name).path
    }

    /// A script of Tests/scripts.
    static func script(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/scripts/" + name).path
    }

    /// A new empty folder `prune-<tag>-<UUID>` under the system temp folder, never shared.
    static func tempDir(_ tag: String) throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("prune-\(tag)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A built executable of this package: next to the test bundle, else in .build/<configuration>
    /// (the configuration of this test build first).
    static func executable(_ name: String) throws -> String {
        var candidates: [String] = []
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(me.appendingPathComponent(name).path)
        candidates.append(me.deletingLastPathComponent().appendingPathComponent(name).path)
        if let b = Bundle.main.executableURL { candidates.append(b.deletingLastPathComponent().appendingPathComponent(name).path) }
        #if DEBUG
        let configurations = ["debug", "release"]
        #else
        let configurations = ["release", "debug"]
        #endif
        for c in configurations { candidates.append(packageRoot.appendingPathComponent(".build/\(c)/\(name)").path) }
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
        throw TestFailure("\(name) is not built (looked in \(candidates.joined(separator: ", "))); run swift build first")
    }
}

/// A test's own failure, with a readable description.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
