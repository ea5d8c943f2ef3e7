import Foundation
import CPruneCleanup

/// The temporary files of a run, removed if the process is interrupted (SIGINT, SIGTERM, SIGHUP,
/// SIGPIPE) once `installSignalHandlers()` has been called (the command-line tools do, first thing).
///
/// Every temporary path the library creates is registered here before the file exists and
/// unregistered after it was renamed into place or removed. Creations and renames happen in `guarded`,
/// during which a signal is held back until the section ends: a signal never removes a file that is
/// being renamed, and never leaves a model in place without its sidecar.
package enum TemporaryFiles {
    /// A registered path (slot -1 when the table was full: the path is then not cleaned up on a
    /// signal, as without handlers). Releasing twice is harmless (a slot may be reused meanwhile).
    package final class Registration: @unchecked Sendable {
        private var slot: Int32
        fileprivate init(slot: Int32) { self.slot = slot }
        /// Forgets the path (call after it was renamed or removed).
        package func release() {
            TemporaryFiles.lock.lock()
            defer { TemporaryFiles.lock.unlock() }
            if slot >= 0 { prune_cleanup_unregister(slot) }
            slot = -1
        }
        deinit { release() }
    }

    fileprivate static let lock = NSLock()

    package static func register(_ path: String) -> Registration {
        Registration(slot: prune_cleanup_register(path))
    }

    /// Registers a folder: on a signal it is removed with everything in it (after the registered
    /// files), symbolic links inside removed, never followed. Register it before creating it.
    package static func registerFolder(_ path: String) -> Registration {
        Registration(slot: prune_cleanup_register_folder(path))
    }

    /// Runs `body` (creating a temporary file and registering it, or renaming files into place) with
    /// signals held back until it returns.
    package static func guarded<T>(_ body: () throws -> T) rethrows -> T {
        prune_cleanup_commit_begin()
        defer { prune_cleanup_commit_end() }
        return try body()
    }

    /// Installs the signal handlers (idempotent). Only programs call this, never the library.
    package static func installSignalHandlers() { prune_cleanup_install() }

    /// How many paths are registered now (tests).
    package static var registeredCount: Int { Int(prune_cleanup_count()) }
}
