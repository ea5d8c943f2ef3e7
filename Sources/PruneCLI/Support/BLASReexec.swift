import Foundation
import PruneRuntime

/// The commands that run the model restart themselves once with a better `OPENBLAS_CORETYPE` when
/// OpenBLAS fell back to generic kernels on a CPU it does not know (`BLASCore.suggestedCoreType`):
/// OpenBLAS reads the variable only when the library loads, so the process must start again, with
/// the same argv, by execve of /proc/self/exe. Called before the command reads stdin or writes
/// anything. `PRUNE_NO_REEXEC=1` turns it off; `PRUNE_BLAS_REEXEC` in the environment marks the
/// restarted process, so it never restarts twice (and a set `OPENBLAS_CORETYPE` is never replaced).
enum BLASReexec {
    static let marker = "PRUNE_BLAS_REEXEC"

    /// The core type to restart with, or nil (escape hatch, already restarted, already set, no better one).
    static func coreType(environment: [String: String], suggested: () -> String?) -> String? {
        guard environment["PRUNE_NO_REEXEC"] != "1", environment[marker] == nil,
              environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        return suggested()
    }

    /// Restarts this process with the suggested core type, or returns (nothing to do, or execve failed:
    /// the run goes on with the kernels it has).
    static func restartIfUseful() {
        guard let core = coreType(environment: ProcessInfo.processInfo.environment, suggested: { BLASCore.suggestedCoreType })
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(marker, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }
}
