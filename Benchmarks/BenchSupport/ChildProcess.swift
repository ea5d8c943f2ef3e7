import Foundation

/// A finished child process: wall seconds, peak RSS (ru_maxrss: wait4 gives the child's own), exit
/// status, and what it wrote to the streams asked for with `.capture` (else empty).
public struct ChildRun: Sendable {
    public var seconds: Double
    public var maxRSSKiB: Int
    public var status: Int32
    public var stdout = ""
    public var stderr = ""
}

/// Where a child's standard stream goes.
public enum ChildStream: Sendable {
    /// This process's own.
    case inherit
    /// /dev/null.
    case null
    /// A file: read for stdin; created or truncated for stdout and stderr.
    case file(String)
    /// stdout or stderr into a temporary file, read into the `ChildRun` once the child exits (a
    /// captured stderr is passed on when the child fails).
    case capture
}

/// Runs `exe args` (posix_spawnp, found on PATH, + wait4) with `environment` added to this process's
/// own, and times it from spawn to exit; a program that cannot be started fails the benchmark.
public func spawn(_ exe: String, _ args: [String], stdin: ChildStream = .inherit, stdout: ChildStream = .inherit,
                  stderr: ChildStream = .inherit, environment: [String: String] = [:]) -> ChildRun {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var captured: [Int32: String] = [:]
    defer { for path in captured.values { try? FileManager.default.removeItem(atPath: path) } }
    for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
        switch stream {
        case .inherit: break
        case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, fd, path, fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        case .capture:
            precondition(fd != 0, "stdin cannot be captured")
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-child-\(UUID().uuidString).\(fd)").path
            captured[fd] = path
            posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
    }
    let all = [exe] + args
    var cargs: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    var cenv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in cenv { free(p) } }
    var pid: pid_t = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    let rc = posix_spawnp(&pid, exe, &actions, nil, &cargs, &cenv)
    guard rc == 0 else { fail("cannot run \(exe): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let t1 = DispatchTime.now().uptimeNanoseconds
    var run = ChildRun(seconds: Double(t1 - t0) / 1e9, maxRSSKiB: usage.ru_maxrss, status: status)
    func read(_ fd: Int32) -> String {
        guard let path = captured[fd] else { return "" }
        return String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
    run.stdout = read(1)
    run.stderr = read(2)
    if status != 0 && captured[2] != nil { FileHandle.standardError.write(Data(run.stderr.utf8)) }
    return run
}

/// The running benchmark's executable.
public func selfPath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}
