import Foundation
import PruneFormats

/// Reads and parses a JSON file of a model folder.
enum JSONFile {
    static func read(_ path: String) throws -> JSONNode {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.cannotRead(path: path, reason: (error as NSError).localizedDescription)
        }
        let result: Result<JSONNode, JSONNodeParser.Failure> = data.withUnsafeBytes { b in
            Result { () throws(JSONNodeParser.Failure) -> JSONNode in try JSONNodeParser.parse(b) }
        }
        switch result {
        case .success(let node): return node
        case .failure(let f): throw TokenizerError.malformedJSON(path: path, offset: f.offset, message: f.message)
        }
    }
}
