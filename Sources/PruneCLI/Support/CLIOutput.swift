import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

/// Process I/O shared by every prune command.
public enum CLIOutput {
    /// Writes text to standard output.
    public static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes one line to standard error.
    public static func err(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The one-line message of an error: its `errorDescription`, newlines folded.
    public static func message(_ error: Error) -> String {
        let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Prints `<tool>: <message>` on stderr and returns exit code 1, for `throw CLIOutput.fail(...)`.
    public static func fail(_ tool: String, _ error: Error) -> ExitCode {
        err("\(tool): \(message(error))")
        return ExitCode(1)
    }

    /// Runs `body`, turning any non-ArgumentParser error into `<tool>: <message>` + exit 1.
    public static func running(_ tool: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ExitCode {
            throw e
        } catch let e as CleanExit {
            throw e
        } catch {
            throw fail(tool, error)
        }
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The zstd levels the tools accept (one range for the help, the check and the message).
    public static let levels: ClosedRange<Int32> = 1...19

    /// Checks a `--level` value against `levels`.
    public static func validateLevel(_ level: Int32) throws {
        guard levels.contains(level) else {
            throw ValidationError("--level must be \(levels.lowerBound)-\(levels.upperBound), not \(level)")
        }
    }

    /// The error for writing compressed (binary) data to a terminal; nil when stdout is not one.
    public static func refuseBinaryToTerminal(tool: String) -> CLIUsageError? {
        isTerminal(1) ? CLIUsageError(message: "refusing to write compressed data to a terminal (stdout); use -o FILE or redirect") : nil
    }

    /// Maps a path argument: `-` means stdin/stdout and is passed through as `-`.
    public static func isStdio(_ path: String) -> Bool { path == "-" }
}

/// A usage problem found after parsing (exit 64 like ArgumentParser's own).
public struct CLIUsageError: Error, LocalizedError {
    public var message: String
    public init(message: String) { self.message = message }
    public var errorDescription: String? { message }
}
