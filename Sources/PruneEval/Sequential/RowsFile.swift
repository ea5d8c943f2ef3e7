import Foundation
import PruneFormats

/// The experiment's JSON Lines file: a header line describing the experiment, then one line per
/// measured checkpoint, appended and flushed as each is measured (an interrupted run keeps every
/// finished row; `--resume` reads them back and measures only the missing ones).
package final class RowsFile {
    package let path: String
    private let handle: FileHandle
    package private(set) var rows: [ExperimentRow] = []

    /// Creates the file with `header`, or with `resume` reads it back (the header must be the same;
    /// a last line cut short by an interruption is dropped).
    package init(path: String, header: JSONNode, resume: Bool) throws {
        self.path = path
        let fm = FileManager.default
        let headerLine = header.serialized()
        if fm.fileExists(atPath: path) {
            guard resume else {
                throw EvalError.badOption("\(path): exists; give --resume to continue that run, or remove it")
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let bytes = [UInt8](data)
            var good = 0     // bytes of complete, valid lines
            var lineNumber = 0
            var start = 0
            while let nl = bytes[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                let line = Array(bytes[start..<nl])
                guard let node = try? JSONNodeParser.parse(line) else { break }
                if lineNumber == 1 {
                    guard node.serialized() == headerLine else {
                        if let changed = Self.changedInput(written: node, now: header) {
                            throw EvalError.badOption("\(path):1: \(changed) changed since this experiment began (its SHA-256 differs); remove the rows file or use another --rows")
                        }
                        throw EvalError.badOption("\(path):1: written by a different experiment (other model, requests, method, checkpoints, arms or measurements); remove it or use another --rows")
                    }
                } else {
                    rows.append(try ExperimentRow(json: node, path: path, line: lineNumber))
                }
                start = nl + 1
                good = start
            }
            guard good > 0 else { throw EvalError.badRecord(path: path, line: 1, what: "no experiment header") }
            handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(good))
            try handle.seekToEnd()
        } else {
            guard fm.createFile(atPath: path, contents: Data((headerLine + "\n").utf8)) else {
                throw EvalError.unreadable(path: path, reason: "cannot create the rows file")
            }
            handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seekToEnd()
        }
    }

    deinit { try? handle.close() }

    /// The first input file whose SHA-256 differs between two headers that list the same files
    /// (`inputs`: [{"file", "sha256"}]); nil when the headers differ otherwise.
    static func changedInput(written: JSONNode, now: JSONNode) -> String? {
        guard case .array(let a)? = written["inputs"], case .array(let b)? = now["inputs"], a.count == b.count else { return nil }
        for (x, y) in zip(a, b) where x["file"] == y["file"] && x["sha256"] != y["sha256"] {
            return y["file"]?.stringValue
        }
        return nil
    }

    package func has(arm: String, edits: Int) -> ExperimentRow? {
        rows.first { $0.arm == arm && $0.edits == edits }
    }

    /// Appends a row and flushes it to the disk.
    package func append(_ row: ExperimentRow) throws {
        try handle.write(contentsOf: Data((row.json().serialized() + "\n").utf8))
        try handle.synchronize()
        rows.append(row)
    }
}
