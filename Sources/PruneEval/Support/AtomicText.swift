import Foundation
import PruneFormats

/// Writes a whole text file atomically (temporary file in the folder, then rename).
package enum AtomicText {
    package static func write(_ text: String, to path: String) throws {
        let file = try AtomicOutputFile(path: path, inputIdentity: nil, inputPath: nil)
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Foundation.write(file.fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                file.abort()
                throw EvalError.unreadable(path: path, reason: "cannot write: " + String(cString: strerror(errno)))
            }
            done += n
        }
        try file.commit()
    }
}
