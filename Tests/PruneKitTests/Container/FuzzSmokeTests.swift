import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// A short deterministic run of the fuzzer (the long runs go through Tests/scripts/fuzz.sh): a fixed
/// number of inputs from a fixed seed, so every machine, fast or slow, checks the same inputs.
@Suite struct FuzzSmokeTests {
    @Test func fuzzerRunsWithoutCrash() throws {
        let exe = try IOTest.executable("prune-fuzz")
        let dir = try IOTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try IOTest.run(exe, ["--runs", "3000", "--seed", "7", "--fixtures", IOTest.fixtures, "--crash-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let out = String(decoding: r.stdout, as: UTF8.self)
        #expect(out.contains("0 crashes"))
        #expect(out.contains(" 3000 inputs"), "\(out)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// Names and keys from a file cannot break the one-line rule.
    @Test func controlCharactersInNamesAreEscaped() {
        let e = GGUFError.tooManyDimensions(path: "f.gguf", tensor: "a\nb\tc\u{1}", nDims: 9)
        #expect(e.errorDescription == "f.gguf: 9 dimensions, at most 4 allowed (tensor 'a\\nb\\tc\\u{1}')")
    }
}
