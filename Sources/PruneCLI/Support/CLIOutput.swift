import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

/// Process I/O shared by every prune command: output, one-line errors and their exit status,
/// refusals, the zstd level range, progress on a terminal (`CLIProgress`).
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

    /// Something the tool will not do, found before any work (exit status 1, like any error).
    public struct Refusal: LocalizedError {
        public var message: String
        public init(_ m: String) { message = m }
        public var errorDescription: String? { message }
    }

    /// The refusal to write model data (compressed or not) to a terminal; nil when stdout is not one.
    public static func refuseModelToTerminal() -> Refusal? {
        isTerminal(1) ? Refusal("refusing to write model data to a terminal (use -o FILE or a redirection)") : nil
    }

    /// Progress lines for `tool` on standard error, shown only when it is a terminal.
    public static func progress(tool: String, quiet: Bool = false) -> CLIProgress { CLIProgress(tool: tool, quiet: quiet) }

    /// The zstd levels the tools accept (one range for the help, the check and the message).
    public static let levels: ClosedRange<Int32> = 1...19

    /// Checks a `--level` value against `levels`.
    public static func validateLevel(_ level: Int32) throws {
        guard levels.contains(level) else {
            throw ValidationError("--level must be \(levels.lowerBound)-\(levels.upperBound), not \(level)")
        }
    }
}

/// A usage problem found after parsing (exit 64 like ArgumentParser's own).
public struct CLIUsageError: Error, LocalizedError {
    public var message: String
    public init(message: String) { self.message = message }
    public var errorDescription: String? { message }
}
