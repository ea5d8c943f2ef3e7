import Foundation

/// A finished child process: wall seconds, peak RSS (ru_maxrss: wait4 gives the child's own) and
/// exit status.
public struct ChildRun: Sendable {
    public var seconds: Double
    public var maxRSSKiB: Int
    public var status: Int32
}

/// Where a child's standard stream goes.
public enum ChildStream: Sendable {
    /// This process's own.
    case inherit
    /// /dev/null.
    case null
    /// A file: read for stdin; created or truncated for stdout and stderr.
    case file(String)
}

/// Runs `exe args` (posix_spawnp, found on PATH, + wait4) and times it from spawn to exit; a program
/// that cannot be started fails the benchmark.
public func spawn(_ exe: String, _ args: [String], stdin: ChildStream = .inherit, stdout: ChildStream = .inherit,
                  stderr: ChildStream = .inherit) -> ChildRun {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
        switch stream {
        case .inherit: break
        case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, fd, path, fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
    }
    let all = [exe] + args
    var cargs: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    let rc = posix_spawnp(&pid, exe, &actions, nil, &cargs, environ)
    guard rc == 0 else { fail("cannot run \(exe): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let t1 = DispatchTime.now().uptimeNanoseconds
    return ChildRun(seconds: Double(t1 - t0) / 1e9, maxRSSKiB: usage.ru_maxrss, status: status)
}

/// The running benchmark's executable.
public func selfPath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}
