import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

/// Process I/O shared by prune-apply and prune-revert: error lines, progress on a terminal.
enum CLIRun {
    struct Refusal: LocalizedError {
        var message: String
        init(_ m: String) { message = m }
        var errorDescription: String? { message }
    }

    static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Runs `body`; any error becomes `<tool>: <message>` on stderr and exit status 1.
    static func guarding(tool: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            stderr("\(tool): \(message)")
            throw ExitCode(1)
        }
    }

    /// Progress lines on stderr, only when it is a terminal.
    final class Progress {
        let tool: String
        let enabled: Bool
        var shown = false
        init(tool: String) {
            self.tool = tool
            enabled = isatty(2) == 1
        }
        var report: ((ApplyProgress) -> Void)? {
            guard enabled else { return nil }
            return { [self] p in
                shown = true
                FileHandle.standardError.write(Data("\r\u{1B}[K\(tool): tensor \(p.tensorsDone)/\(p.tensorsTotal) (\(p.edits) edits), \(p.bytesDone >> 20)/\(p.bytesTotal >> 20) MiB, \(p.tensor)".utf8))
            }
        }
        func finish() {
            if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }

    static func progress(tool: String) -> Progress { Progress(tool: tool) }

    /// The refusal to write model data (compressed or not) to a terminal; nil when stdout is not one.
    static func refuseModelToTerminal() -> Refusal? {
        isatty(1) == 1 ? Refusal("refusing to write model data to a terminal (use -o FILE or a redirection)") : nil
    }
}
