import Foundation

/// A finished child process: wall seconds, peak RSS (ru_maxrss), exit status, and what it wrote.
struct ChildRun {
    var seconds: Double
    var maxRSSKiB: Int
    var status: Int32
    var stdout: String
    var stderr: String
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("prune-bench-runtime: \(message)\n".utf8))
    exit(1)
}

/// A line of the report, written at once (stdout is not line-buffered off a terminal).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func note(_ message: String) {
    FileHandle.standardError.write(Data("  \(message)\n".utf8))
}

/// Runs `exe args` (posix_spawnp + wait4, so the peak RSS is the child's own); stdout and stderr
/// are captured through files (stderr is passed on when the child fails).
func spawn(_ exe: String, _ args: [String], environment: [String: String] = [:]) -> ChildRun {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("prune-bench-runtime-\(UUID().uuidString).out").path
    let errPath = out + ".err"
    defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: errPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
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
    let text = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
    let errText = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
    if status != 0 { FileHandle.standardError.write(Data(errText.utf8)) }
    return ChildRun(seconds: Double(t1 - t0) / 1e9, maxRSSKiB: usage.ru_maxrss, status: status, stdout: text, stderr: errText)
}

func selfPath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// The total size of a file, or of every file in a folder.
func modelSize(_ path: String) -> Int {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return 0 }
    guard isDir.boolValue else { return fileSize(path) }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.filter { $0.hasSuffix(".safetensors") }.reduce(0) { $0 + fileSize(path + "/" + $1) }
}

/// The peak resident set of this process (VmHWM of /proc/self/status), in KiB.
func peakRSSKiB() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
