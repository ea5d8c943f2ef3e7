import ArgumentParser
import PruneRuntime

/// `prune cpu`: which OpenBLAS kernels run the products here, what the CPU runs, which path the
/// kernels on stored weights take (`PRUNE_KERNELS=portable` forces the portable one), and what the
/// model-running commands restart with (`BLASReexec`).
public struct CPUCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Show the OpenBLAS kernel family in use, the vector instructions this CPU runs, the path of the kernels on stored weights, and the kernel family the model-running commands restart with.")

    @Flag(name: .long, help: "Print only a second kernel family this CPU runs whose arithmetic differs from the one in use (Prescott or Haswell), or nothing when there is none. The test command runs the numeric suites once more under it.")
    var otherFamily = false

    public init() {}

    public func run() throws {
        if otherFamily {
            if let f = BLASCore.otherFamily { CLIOutput.out(f + "\n") }
            return
        }
        let suggested = BLASCore.suggestedCoreType
        CLIOutput.out("""
            openblas kernels: \(BLASCore.name)
            avx2 and fma: \(BLASCore.avx2FMAUsable ? "usable" : "not usable")
            avx-512: \(BLASCore.avx512Usable ? "usable" : "not usable")
            kernels on stored weights: \(StoredKernels.path), with --activations q8: \(Q8Kernels.path)
            model-running commands restart with: \(suggested.map { "OPENBLAS_CORETYPE=\($0)" } ?? "no change")
            second kernel family for the tests: \(BLASCore.otherFamily ?? "none")

            """)
    }
}
