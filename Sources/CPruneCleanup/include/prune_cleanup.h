// Removal of a run's temporary files when the process is interrupted (SIGINT, SIGTERM, SIGHUP,
// SIGPIPE), from an async-signal-safe handler. The library registers every temporary path it
// creates and unregisters it once renamed or removed; renames happen inside a commit section, so a
// signal never removes a file another thread is about to rename into place, nor interrupts a run
// between putting the model and its sidecar in place.
#ifndef PRUNE_CLEANUP_H
#define PRUNE_CLEANUP_H

/// Registers a path (copied) for removal on a signal; returns a slot >= 0, or -1 when full.
int prune_cleanup_register(const char *path);
/// Registers a folder (copied) to be removed with everything in it on a signal (after the
/// registered files); returns a slot >= 0, or -1 when full. Symbolic links inside are removed, never
/// followed.
int prune_cleanup_register_folder(const char *path);
/// Forgets a registered path (without removing it); -1 is ignored.
void prune_cleanup_unregister(int slot);
/// Installs the handlers (once; later calls do nothing). Until then, registering has no effect
/// beyond bookkeeping.
void prune_cleanup_install(void);
/// Enters a commit section: a signal arriving inside it is acted on when the section ends.
/// Returns only when no signal handler is removing files (if one is, this never returns: the
/// process is about to die).
void prune_cleanup_commit_begin(void);
/// Leaves the commit section; a signal that arrived meanwhile now removes what is still registered
/// and ends the process with that signal.
void prune_cleanup_commit_end(void);
/// Number of registered paths (for tests).
int prune_cleanup_count(void);

#endif
