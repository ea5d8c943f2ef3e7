import Foundation
import PruneKit

/// Progress of an apply, replay or revert on standard error, one self-overwriting line, only when
/// standard error is a terminal; `finish()` clears it before the summary line.
public final class CLIProgress {
    let tool: String
    let enabled: Bool
    private var shown = false

    init(tool: String) {
        self.tool = tool
        enabled = CLIOutput.isTerminal(2)
    }

    /// The callback to hand to the operation (nil off a terminal).
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
