import Foundation
import PruneFormats

/// The records of a JSON file: a top-level array of objects (CounterFact's `.json`), a single
/// object, or JSON Lines (one object a line, blank lines skipped). Each record comes with the
/// 1-based line it starts on, for error messages.
package enum JSONRecords {
    package struct Record: Sendable {
        package var line: Int
        package var value: JSONNode
    }

    package static func read(_ path: String) throws -> [Record] {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw EvalError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(bytes, path: path)
    }

    package static func parse(_ bytes: [UInt8], path: String) throws -> [Record] {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return [] }
        if bytes[first] == UInt8(ascii: "[") {
            let node: JSONNode
            do {
                node = try JSONNodeParser.parse(bytes)
            } catch {
                throw EvalError.invalidJSON(path: path, line: line(of: error.offset, in: bytes), reason: error.message)
            }
            guard case .array(let items) = node else { return [] }
            // The line of an element is the line of its first key (objects) or of the array.
            return items.map { item in
                var l = line(of: first, in: bytes)
                if case .object(let members) = item, let m = members.first { l = line(of: m.keyOffset, in: bytes) }
                return Record(line: l, value: item)
            }
        }
        // One (possibly pretty-printed) object, or else JSON Lines.
        if let node = try? JSONNodeParser.parse(bytes) {
            return [Record(line: line(of: first, in: bytes), value: node)]
        }
        var records: [Record] = []
        var start = 0
        var lineNumber = 1
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let slice = Array(bytes[start..<end])
            if slice.contains(where: { !isSpace($0) }) {
                do {
                    records.append(Record(line: lineNumber, value: try JSONNodeParser.parse(slice)))
                } catch {
                    throw EvalError.invalidJSON(path: path, line: lineNumber,
                                                reason: "\(error.message) (column \(error.offset + 1))")
                }
            }
            start = end + 1
            lineNumber += 1
        }
        return records
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    static func line(of offset: Int, in bytes: [UInt8]) -> Int {
        var n = 1
        for b in bytes[..<min(max(offset, 0), bytes.count)] where b == 0x0A { n += 1 }
        return n
    }
}
