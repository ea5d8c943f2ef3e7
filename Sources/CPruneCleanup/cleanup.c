#include "prune_cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PRUNE_CLEANUP_SLOTS 256

/// Each entry is a kind byte ('f': a file, 'd': a folder and everything in it) then the path.
static _Atomic(char *) slots[PRUNE_CLEANUP_SLOTS];

enum { STATE_IDLE = 0, STATE_COMMITTING = 1, STATE_DYING = 2 };
static atomic_int state = STATE_IDLE;
static atomic_int pending_signal = 0;
static atomic_int installed = 0;

static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

static int register_entry(const char *path, char kind) {
    size_t n = strlen(path);
    char *copy = malloc(n + 2);
    if (!copy) return -1;
    copy[0] = kind;
    memcpy(copy + 1, path, n + 1);
    for (int i = 0; i < PRUNE_CLEANUP_SLOTS; i++) {
        char *expected = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &expected, copy)) return i;
    }
    free(copy);
    return -1;
}

int prune_cleanup_register(const char *path) { return register_entry(path, 'f'); }

int prune_cleanup_register_folder(const char *path) { return register_entry(path, 'd'); }

void prune_cleanup_unregister(int slot) {
    if (slot < 0 || slot >= PRUNE_CLEANUP_SLOTS) return;
    char *old = atomic_exchange(&slots[slot], NULL);
    free(old);
}

int prune_cleanup_count(void) {
    int n = 0;
    for (int i = 0; i < PRUNE_CLEANUP_SLOTS; i++) if (atomic_load(&slots[i])) n++;
    return n;
}

/// Commit sections nest on one thread (a section inside a section is part of it).
static _Thread_local int commit_depth = 0;

#define PRUNE_CLEANUP_DEPTH 16
/// One directory-entry buffer per level of `remove_inside` (only one thread ever runs `die`).
static char dirent_buffers[PRUNE_CLEANUP_DEPTH][2048];

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/// Removes everything inside the folder open as `fd` (links and files unlinked, subfolders emptied
/// and removed, up to PRUNE_CLEANUP_DEPTH levels). Async-signal-safe: getdents64, unlinkat, openat,
/// lseek, close.
static void remove_inside(int fd, int depth) {
    if (depth >= PRUNE_CLEANUP_DEPTH) return;
    char *buf = dirent_buffers[depth];
    // Removing entries while reading may make the listing skip some: read again until a pass
    // removes nothing.
    for (int pass = 0; pass < 64; pass++) {
        int removed = 0;
        lseek(fd, 0, SEEK_SET);
        for (;;) {
            long n = syscall(SYS_getdents64, fd, buf, sizeof dirent_buffers[0]);
            if (n <= 0) break;
            for (long at = 0; at < n;) {
                struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + at);
                at += d->d_reclen;
                const char *name = d->d_name;
                if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
                if (unlinkat(fd, name, 0) == 0) { removed++; continue; }
                if (errno != EISDIR && errno != EPERM) continue;
                int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) continue;
                remove_inside(sub, depth + 1);
                close(sub);
                if (unlinkat(fd, name, AT_REMOVEDIR) == 0) removed++;
            }
        }
        if (removed == 0) break;
    }
}

static void remove_folder(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    remove_inside(fd, 0);
    close(fd);
    rmdir(path);
}

/// Removes every registered file and ends the process with `sig` (so the parent sees the signal).
/// Async-signal-safe: atomics, unlink(2), remove_folder's calls, sigaction(2), sigprocmask(2),
/// raise(3), _exit(2). Each string is taken out of its slot with an exchange, so a concurrent unregister cannot free a string
/// the handler is reading (it gets NULL instead); the strings taken are leaked, the process ends.
static void die(int sig) {
    // Files first, then the folders with whatever is left in them.
    char *folders[PRUNE_CLEANUP_SLOTS];
    int folderCount = 0;
    for (int i = 0; i < PRUNE_CLEANUP_SLOTS; i++) {
        char *p = atomic_exchange(&slots[i], NULL);
        if (!p) continue;
        if (p[0] == 'd') folders[folderCount++] = p + 1;
        else unlink(p + 1);
    }
    for (int i = 0; i < folderCount; i++) remove_folder(folders[i]);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);   // inside the handler the signal itself is blocked
    raise(sig);
    _exit(128 + sig);
}

static void handler(int sig) {
    int expected = STATE_IDLE;
    if (atomic_compare_exchange_strong(&state, &expected, STATE_DYING)) die(sig);
    if (expected == STATE_COMMITTING) {
        int none = 0;
        atomic_compare_exchange_strong(&pending_signal, &none, sig);
    }
    // DYING: another thread is already removing the files and ending the process.
}

void prune_cleanup_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        // Leave an ignored signal ignored (e.g. nohup, or SIGPIPE ignored by the parent).
        struct sigaction old;
        if (sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(handled[i], &sa, NULL);
        // A signal blocked at exec (threads of the parent often block them, and posix_spawn
        // passes the mask on) would never be delivered: unblock it on this thread, which every
        // later thread of the process starts from.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, handled[i]);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
}

void prune_cleanup_commit_begin(void) {
    if (commit_depth++ > 0) return;
    for (;;) {
        int expected = STATE_IDLE;
        if (atomic_compare_exchange_strong(&state, &expected, STATE_COMMITTING)) return;
        if (expected == STATE_DYING) { for (;;) pause(); }
        // COMMITTING on another thread: wait for it.
        usleep(100);
    }
}

void prune_cleanup_commit_end(void) {
    if (commit_depth == 0 || --commit_depth > 0) return;
    int sig = atomic_exchange(&pending_signal, 0);
    if (sig) {
        atomic_store(&state, STATE_DYING);
        die(sig);
    }
    atomic_store(&state, STATE_IDLE);
    // A signal that arrived between the exchange above and this store found COMMITTING and left
    // itself pending: act on it now.
    sig = atomic_exchange(&pending_signal, 0);
    if (sig) {
        int expected = STATE_IDLE;
        if (atomic_compare_exchange_strong(&state, &expected, STATE_DYING)) die(sig);
        for (;;) pause();
    }
}
