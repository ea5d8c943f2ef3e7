import Foundation
import PruneFormats

/// How format 2 stores a manifest's bytes: the manifest is cut into literal runs and base64 strings
/// whose decoded bytes are exactly those of a part the sidecar already holds (a raw term's factor
/// written inline as `{"b64": …}`); the literal runs are stored concatenated and zstd-compressed,
/// the base64 strings as references. Rebuilding re-encodes each referenced part in standard padded
/// base64, so the result is the original manifest byte for byte (checked against its SHA-256 when
/// the sidecar is written and when it is read).
enum ManifestTemplate {
    enum Piece: Equatable {
        /// The next `n` bytes of the literal stream.
        case literal(Int)
        /// Standard base64 of the named part's bytes.
        case base64(String)
    }

    /// Splits `manifest` against the parts whose bytes it may quote in base64.
    static func make(_ manifest: [UInt8], parts: [(name: String, bytes: [UInt8])]) -> (pieces: [Piece], literals: [UInt8]) {
        // Parts by their canonical encoding: a string in the manifest that equals one is that part
        // (no decoding, and a non-canonical string simply does not match). Encoded in parallel;
        // the first part of equal content keeps the name, as in a sequential pass.
        let quotable = parts.filter { $0.bytes.count >= 48 }
        let encodings = ParallelMap.map(quotable.count, threads: ProcessInfo.processInfo.activeProcessorCount) {
            Base64.encode(quotable[$0].bytes)
        }
        var byEncoding: [Content: String] = [:]
        for (p, e) in zip(quotable, encodings) where byEncoding[Content(e)] == nil { byEncoding[Content(e)] = p.name }
        let lengths = Set(encodings.map(\.count))
        var pieces: [Piece] = []
        var literals: [UInt8] = []
        var copied = 0
        manifest.withUnsafeBufferPointer { m in
            let n = m.count
            func isB64(_ c: UInt8) -> Bool {
                (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2F || c == 0x3D
            }
            func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
            // Each `"b64"` key followed by `:` and a string of base64 characters.
            var i = 0
            while i + 5 <= n {
                guard m[i] == 0x22, m[i + 1] == 0x62, m[i + 2] == 0x36, m[i + 3] == 0x34, m[i + 4] == 0x22 else { i += 1; continue }
                var j = i + 5
                while j < n, isSpace(m[j]) { j += 1 }
                guard j < n, m[j] == 0x3A else { i += 1; continue }
                j += 1
                while j < n, isSpace(m[j]) { j += 1 }
                guard j < n, m[j] == 0x22 else { i += 1; continue }
                let start = j + 1
                var end = start
                while end < n, isB64(m[end]) { end += 1 }
                guard end < n, m[end] == 0x22, end > start, lengths.contains(end - start),
                      let part = byEncoding[Content(Array(m[start..<end]))] else { i = end; continue }
                if start > copied {
                    pieces.append(.literal(start - copied))
                    literals.append(contentsOf: m[copied..<start])
                }
                pieces.append(.base64(part))
                copied = end
                i = end
            }
            if n > copied {
                pieces.append(.literal(n - copied))
                literals.append(contentsOf: m[copied..<n])
            }
        }
        return (pieces, literals)
    }

    /// Bytes as a dictionary key hashed as one buffer (an array of bytes hashes element by element,
    /// which for the megabytes of inline factors of a long manifest cost a tenth of a second).
    struct Content: Hashable {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        static func == (a: Content, b: Content) -> Bool { a.bytes == b.bytes }
    }

    /// The manifest from its pieces; `part` gives a part's bytes by name.
    static func rebuild(_ pieces: [Piece], literals: [UInt8], part: (String) throws -> [UInt8]) throws -> [UInt8]? {
        var out: [UInt8] = []
        var at = 0
        for p in pieces {
            switch p {
            case .literal(let n):
                guard n >= 0, literals.count - at >= n else { return nil }
                out.append(contentsOf: literals[at..<(at + n)])
                at += n
            case .base64(let name):
                out.append(contentsOf: Base64.encode(try part(name)))
            }
        }
        return at == literals.count ? out : nil
    }
}
