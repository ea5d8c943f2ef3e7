import Foundation
import PruneFormats
import PruneKit

/// The checkpoint of an interrupted `prune-stats compute` (`<output>.checkpoint`): the exact sum
/// of the chunks done (`sum_exact`, as in a statistics file), the count, the documents and the next
/// chunk, with everything the chunks' bits depend on, so that a resumed run gives the bytes of an
/// uninterrupted one and a checkpoint of another run is refused. Written atomically (temporary file,
/// then rename): a run killed at any moment leaves the previous checkpoint or the new one.
public enum StatisticsCheckpoint {
    public static let formatName = "prune-stats-checkpoint"

    /// What a checkpoint must agree with to be resumed.
    public struct Identity: Sendable, Equatable {
        /// Model, network, tokenizer, layer, text, caps and BLAS kernels (as the cache keys them).
        public var key: StatisticsCache.Key
        public var part: StatisticsComputer.Part
        public var width: Int
        public init(key: StatisticsCache.Key, part: StatisticsComputer.Part, width: Int) {
            self.key = key
            self.part = part
            self.width = width
        }

        var fields: [(String, String)] {
            // The options a user sets first, the identities they imply after.
            [("layer", String(key.layer)), ("part", "\(part.index)/\(part.count)"), ("text", key.textSHA256),
             ("doc_tokens", String(key.docTokens)), ("max_tokens", String(key.maxTokens)),
             ("max_documents", String(key.maxDocuments)), ("width", String(width)),
             ("chunk_documents", String(StatisticsComputer.chunkDocuments)),
             ("exact_fraction_bits", String(ExactKeySum.fractionBits)), ("blas", key.arithmetic),
             ("tokenizer", key.tokenizer), ("network", key.network), ("model", key.modelHash)]
        }

        /// How a field's difference is told.
        static func describe(_ field: String) -> String {
            switch field {
            case "model": return "another model (its weights up to the layer)"
            case "network": return "another network definition"
            case "tokenizer": return "another tokenizer"
            case "layer": return "another layer"
            case "text": return "another text"
            case "doc_tokens", "max_tokens", "max_documents": return "other caps (--\(field == "max_documents" ? "max-docs" : field.replacingOccurrences(of: "_", with: "-")))"
            case "blas": return "other OpenBLAS kernels"
            case "part": return "another --part"
            default: return "another \(field)"
            }
        }
    }

    public static func encode(_ c: StatisticsComputer.Checkpoint, identity: Identity) throws -> [UInt8] {
        try builder(c, identity: identity).build()
    }

    /// The file, the exact sum written from its own array in pieces.
    static func builder(_ c: StatisticsComputer.Checkpoint, identity: Identity) throws -> SafetensorsBuilder {
        var b = SafetensorsBuilder()
        let n = c.exact.values.count
        try b.add(KeyStatisticsFile.exactTensor, dtype: .i64, shape: [n, 2], byteCount: n * 16, producer: c.exact.write(to:))
        var members = identity.fields.map { JSONNodeMember(key: $0.0, value: .string($0.1)) }
        members += [JSONNodeMember(key: "count", value: .int(c.count)), JSONNodeMember(key: "documents", value: .int(c.documents)),
                    JSONNodeMember(key: "next_chunk", value: .int(c.nextChunk))]
        b.setMetadata("format", formatName)
        b.setMetadata("checkpoint", JSONNode.object(members).serialized())
        return b
    }

    /// Writes atomically, streamed.
    public static func write(_ c: StatisticsComputer.Checkpoint, identity: Identity, to path: String) throws {
        let b = try builder(c, identity: identity)
        try StagedFile(destination: path) { try b.write(to: $0) }.commit()
    }

    /// Reads a checkpoint and refuses one of another run, naming what differs.
    public static func read(path: String, expected: Identity) throws -> StatisticsComputer.Checkpoint {
        func bad(_ r: String) -> FactError { .badStatisticsFile(path: path, reason: r) }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch {
            throw bad("not a prune-stats checkpoint, or a damaged one: " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
        let meta = Dictionary(file.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard meta["format"] == formatName, let text = meta["checkpoint"], let doc = try? JSONNodeParser.parse(Array(text.utf8)) else {
            throw bad("not a prune-stats checkpoint (no format \"\(formatName)\" with its checkpoint metadata)")
        }
        for (field, value) in expected.fields {
            guard let v = doc[field]?.stringValue else { throw bad("the checkpoint lacks \(field)") }
            guard v == value else {
                let shown = { (s: String) -> String in s.count > 16 ? String(s.prefix(16)) + "…" : s }
                throw bad("a checkpoint of \(Identity.describe(field)) (\(field) \(shown(v)), this run's \(shown(value))): remove it, or run as it was started")
            }
        }
        guard let count = doc["count"]?.nonNegativeInt, let documents = doc["documents"]?.nonNegativeInt,
              let next = doc["next_chunk"]?.nonNegativeInt else {
            throw bad("the checkpoint lacks count, documents or next_chunk")
        }
        let n = expected.width * (expected.width + 1) / 2
        guard let info = file.info(named: KeyStatisticsFile.exactTensor), info.type == .safetensors(.i64), info.shape == [n, 2],
              let exact = try ExactKeySum.decode(width: expected.width, file: file, tensor: KeyStatisticsFile.exactTensor) else {
            throw bad("tensor \(KeyStatisticsFile.exactTensor) must be I64 [\(n), 2] with values in range")
        }
        return StatisticsComputer.Checkpoint(nextChunk: next, exact: exact, count: count, documents: documents)
    }
}
