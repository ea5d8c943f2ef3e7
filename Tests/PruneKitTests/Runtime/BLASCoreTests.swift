import Foundation
import Testing
@testable import PruneCLI
@testable import PruneRuntime

/// Which OpenBLAS kernel family the model-running commands restart with, and when they do not.
@Suite struct BLASCoreTests {
    static let avx512 = Set(["sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"])

    @Test("a generic fallback on an AVX-512 CPU gets SkylakeX; AVX2+FMA gets Haswell; a known core or a set variable nothing")
    func decision() {
        let s = BLASCore.suggestedCoreType
        #expect(s == nil || s == "SkylakeX" || s == "Haswell")
        func pick(_ env: [String: String] = [:], _ core: String = "Prescott", _ flags: Set<String> = Self.avx512,
                  avx512: Bool = true, avx2: Bool = true) -> String? {
            BLASCore.suggestedCoreType(environment: env, coreName: core, cpuFlags: flags, avx512Usable: avx512, avx2Usable: avx2)
        }
        #expect(pick() == "SkylakeX")
        #expect(pick(["OPENBLAS_CORETYPE": "Haswell"]) == nil)
        #expect(pick([:], "SkylakeX") == nil)
        #expect(pick([:], "Haswell") == nil)
        #expect(pick([:], "unknown") == "SkylakeX")
        // CPUID or the OS says no zmm state (e.g. AVX-512 disabled in XCR0): never SkylakeX.
        #expect(pick(avx512: false) == "Haswell")
        // /proc/cpuinfo hides a flag (clearcpuid, a hypervisor): never SkylakeX either.
        #expect(pick([:], "Prescott", Self.avx512.subtracting(["avx512bw"])) == "Haswell")
        #expect(pick([:], "Prescott", ["sse3", "avx", "avx2", "fma"], avx512: false) == "Haswell")
        #expect(pick([:], "Prescott", ["sse3", "avx"], avx512: false, avx2: false) == nil)
        #expect(pick(avx512: false, avx2: false) == nil)
    }

    @Test("the restart: once, never with PRUNE_NO_REEXEC=1 or OPENBLAS_CORETYPE already set")
    func restartGuard() {
        #expect(BLASReexec.coreType(environment: [:], suggested: { "SkylakeX" }) == "SkylakeX")
        #expect(BLASReexec.coreType(environment: [:], suggested: { nil }) == nil)
        #expect(BLASReexec.coreType(environment: ["PRUNE_NO_REEXEC": "1"], suggested: { "SkylakeX" }) == nil)
        #expect(BLASReexec.coreType(environment: [BLASReexec.marker: "SkylakeX"], suggested: { "SkylakeX" }) == nil)
        #expect(BLASReexec.coreType(environment: ["OPENBLAS_CORETYPE": "Prescott"], suggested: { "SkylakeX" }) == nil)
    }

    @Test("a fact manifest is recognised before the run; lowrank lines, sidecars and missing files are not fact lines")
    func factLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prune-blas-core-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fact = dir + "/fact.jsonl", low = dir + "/low.jsonl", cf = dir + "/cf.jsonl"
        try Data("{\"kind\": \"lowrank\", \"tensor\": \"t\"}\n{\"kind\": \"memit\", \"requests\": []}\n".utf8).write(to: URL(fileURLWithPath: fact))
        try Data("{\"kind\": \"lowrank\", \"tensor\": \"t\"}\n".utf8).write(to: URL(fileURLWithPath: low))
        try Data("{\"case_id\": 1, \"requested_rewrite\": {\"prompt\": \"{} is\"}}\n".utf8).write(to: URL(fileURLWithPath: cf))
        #expect(FactCLISupport.hasFactLines(fact))
        #expect(FactCLISupport.hasFactLines(cf))
        #expect(!FactCLISupport.hasFactLines(low))
        #expect(!FactCLISupport.hasFactLines(dir + "/missing.jsonl"))
        #expect(!FactCLISupport.hasFactLines(ApplyTestSupport.packageRoot + "/samples/gpt2-tiny/model.safetensors"))
    }
}
