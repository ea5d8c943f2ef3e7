import Foundation

/// Ends the benchmark: `<its executable's name>: message` on stderr, exit status 1.
public func fail(_ message: String) -> Never {
    let name = URL(fileURLWithPath: selfPath()).lastPathComponent
    FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
    exit(1)
}
