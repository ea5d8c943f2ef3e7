import BenchSupport
import Foundation

/// A child process with stdin from /dev/null and its stdout and stderr captured (BenchSupport's
/// `spawn`; the captured stderr is passed on when the child fails).
func child(_ exe: String, _ args: [String], environment: [String: String] = [:]) -> ChildRun {
    spawn(exe, args, stdin: .null, stdout: .capture, stderr: .capture, environment: environment)
}

/// A line of the report, written at once (stdout is not line-buffered off a terminal).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func note(_ message: String) {
    FileHandle.standardError.write(Data("  \(message)\n".utf8))
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
