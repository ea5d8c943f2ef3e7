import Foundation
import PruneFormats
import PruneKit

/// The safetensors form of `KeyStatistics`: tensors `sum` (F64 [m, m]) and `count` (I64 [1]);
/// `__metadata__` holds `format` = "prune-stats", `format_version`, and `prune_stats`, a JSON
/// document with the identity (model hash, layer, width, count, documents, sources) and `sha256`, the
/// SHA-256 of the sum and count (`KeyStatistics.sha256`), verified on read.
public enum KeyStatisticsFile {
    public static func encode(_ s: KeyStatistics, metadata extra: [String: String] = [:]) throws -> [UInt8] {
        try builder(s, metadata: extra, withExact: true).build()
    }

    /// The file, its large tensors (the sum, the exact sum) written from their own arrays in pieces;
    /// the exact sum only with `withExact` (a file for merges; an edit reads the f64 sum alone).
    static func builder(_ s: KeyStatistics, metadata extra: [String: String], withExact: Bool) throws -> SafetensorsBuilder {
        var b = SafetensorsBuilder()
        if s.isExactOnly, let e = s.exact {
            try b.add("sum", dtype: .f64, shape: [s.width, s.width], byteCount: s.width * s.width * 8, producer: e.writeDoubles(to:))
        } else {
            try b.add("sum", f64Streamed: s.sum, shape: [s.width, s.width])
        }
        var count = Int64(s.count).littleEndian
        try b.add("count", dtype: .i64, shape: [1], bytes: withUnsafeBytes(of: &count) { Array($0) })
        if withExact, let e = s.exact {
            try b.add(exactTensor, dtype: .i64, shape: [e.values.count, 2], byteCount: e.values.count * 16, producer: e.write(to:))
        }
        let sources: [JSONNode] = s.sources.map { src in
            var members = [
                JSONNodeMember(key: "doc_tokens", value: .int(src.docTokens)),
                JSONNodeMember(key: "max_documents", value: .int(src.maxDocuments)),
                JSONNodeMember(key: "max_tokens", value: .int(src.maxTokens)),
            ]
            if src.parts > 0 {
                members.append(JSONNodeMember(key: "blas", value: .string(src.arithmetic)))
                members.append(JSONNodeMember(key: "part", value: .string("\(src.part)/\(src.parts)")))
            }
            members.append(JSONNodeMember(key: "text_sha256", value: .string(src.textSHA256)))
            members.append(JSONNodeMember(key: "tokens", value: .int(src.tokens)))
            return .object(members)
        }
        var members = [
            JSONNodeMember(key: "count", value: .int(s.count)),
            JSONNodeMember(key: "documents", value: .int(s.documents)),
        ]
        if withExact && s.exact != nil { members.append(JSONNodeMember(key: "exact_fraction_bits", value: .int(ExactKeySum.fractionBits))) }
        members += [
            JSONNodeMember(key: "layer", value: .int(s.layer)),
            JSONNodeMember(key: "model_hash", value: .string(s.modelHash)),
            JSONNodeMember(key: "sha256", value: .string(s.sha256)),
            JSONNodeMember(key: "sources", value: .array(sources)),
            JSONNodeMember(key: "width", value: .int(s.width)),
        ]
        let doc: JSONNode = .object(members)
        b.setMetadata("format", KeyStatistics.formatName)
        b.setMetadata("format_version", String(KeyStatistics.formatVersion))
        b.setMetadata("prune_stats", doc.serialized())
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { b.setMetadata(k, v) }
        return b
    }

    /// Writes atomically (temporary file in the destination folder, then rename), streamed: no copy
    /// of the sum in memory. `withExact`: with the exact sum, when the statistics hold it.
    public static func write(_ s: KeyStatistics, to path: String, metadata: [String: String] = [:], withExact: Bool = true) throws {
        let b = try builder(s, metadata: metadata, withExact: withExact)
        let staged = try StagedFile(destination: path) { try b.write(to: $0) }
        try staged.commit()
    }

    /// The tensor holding the exact sum (`ExactKeySum`: I64 [m(m+1)/2, 2], low and high words).
    static let exactTensor = "sum_exact"

    /// Reads and checks a statistics file: its identity, a count that agrees with the metadata and
    /// the sources, an exactly symmetric sum with a non-negative diagonal, and the content hash when
    /// the file records one (files of prune before it did not). `exact`: also read the exact sum
    /// where the file has one (for a merge), checked against `sum`.
    public static func read(path: String, exact: Bool = false) throws -> KeyStatistics {
        try readWithMetadata(path: path, requireContentHash: false, exact: exact).statistics
    }

    /// Whether the bytes start like a safetensors file (an 8-byte header length, then `{`): a file
    /// given where statistics or a text may come is read as statistics then, and its damage reported.
    public static func looksLikeStatistics(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 9), head.count == 9 else { return false }
        let b = [UInt8](head)
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(b[i]) }
        return b[8] == UInt8(ascii: "{") && n > 0 && n < 1 << 40
    }

    /// `read`, with the file's `__metadata__`; `requireContentHash` refuses a file without `sha256`.
    public static func readWithMetadata(path: String, requireContentHash: Bool, exact: Bool = false) throws
        -> (statistics: KeyStatistics, metadata: [String: String]) {
        func bad(_ r: String) -> FactError { .badStatisticsFile(path: path, reason: r) }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch {
            let why = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            throw bad("not a prune statistics file, or a damaged one: " + why)
        }
        let meta = Dictionary(file.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard meta["format"] == KeyStatistics.formatName else { throw bad("not a prune-stats file (no format \"prune-stats\" in its metadata)") }
        guard let v = meta["format_version"].flatMap(Int.init), v <= KeyStatistics.formatVersion else {
            throw bad("format_version \(meta["format_version"] ?? "missing") is not supported (this prune reads ≤ \(KeyStatistics.formatVersion))")
        }
        guard let text = meta["prune_stats"], let doc = try? JSONNodeParser.parse(Array(text.utf8)) else {
            throw bad("missing or invalid prune_stats metadata")
        }
        guard let layer = doc["layer"]?.nonNegativeInt, let width = doc["width"]?.nonNegativeInt, width > 0,
              width <= 1 << 16, let model = doc["model_hash"]?.stringValue,
              let documents = doc["documents"]?.nonNegativeInt else {
            throw bad("prune_stats lacks layer, width, model_hash or documents")
        }
        guard let sumInfo = file.info(named: "sum"), sumInfo.type == .safetensors(.f64), sumInfo.shape == [width, width] else {
            throw bad("tensor sum must be F64 [\(width), \(width)]")
        }
        guard let countInfo = file.info(named: "count"), countInfo.type == .safetensors(.i64), countInfo.shape == [1] else {
            throw bad("tensor count must be I64 [1]")
        }
        var s = KeyStatistics(modelHash: model, layer: layer, width: width)
        // In pieces, each piece's pages given back once copied: the file's sum is never resident
        // beside the one read from it.
        try s.sum.withUnsafeMutableBufferPointer { sum in
            try file.withPieces(of: "sum") { raw, at in
                for i in 0..<(raw.count / 8) {
                    sum[at / 8 + i] = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                }
            }
        }
        let count = try file.withData(for: "count") { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
        guard count >= 0 else { throw bad("negative count") }
        guard s.sum.allSatisfy(\.isFinite) else { throw bad("sum holds non-finite values") }
        if let c = doc["count"]?.nonNegativeInt, c != count {
            throw bad("tensor count is \(count), the metadata says \(c)")
        }
        s.count = Int(count)
        s.documents = documents
        if case .array(let items)? = doc["sources"] {
            s.sources = try items.map { src in
                guard let t = src["text_sha256"]?.stringValue, let d = src["doc_tokens"]?.nonNegativeInt,
                      let mt = src["max_tokens"]?.nonNegativeInt, let md = src["max_documents"]?.nonNegativeInt,
                      let tk = src["tokens"]?.nonNegativeInt else { throw bad("a source lacks its fields") }
                var source = KeyStatistics.Source(textSHA256: t, docTokens: d, maxTokens: mt, maxDocuments: md, tokens: tk)
                if let p = src["part"] {
                    guard let text = p.stringValue, let kn = parsePart(text), let blas = src["blas"]?.stringValue else {
                        throw bad("a source's part is not K/N with 1 ≤ K ≤ N, with its blas")
                    }
                    (source.part, source.parts, source.arithmetic) = (kn.0, kn.1, blas)
                }
                return source
            }
            let tokens = s.sources.reduce(0) { $0.addingReportingOverflow($1.tokens).partialValue }
            guard s.sources.isEmpty || tokens == s.count else {
                throw bad("tensor count is \(s.count), the sources' tokens add up to \(tokens)")
            }
        }
        guard s.count > 0 || s.sum.allSatisfy({ $0 == 0 }) else { throw bad("count is 0 but the sum is not zero") }
        let m = width
        for i in 0..<m {
            guard s.sum[i * m + i] >= 0 else { throw bad("sum[\(i), \(i)] = \(s.sum[i * m + i]) is negative: not a sum of k kᵀ") }
            for j in (i + 1)..<m where s.sum[i * m + j] != s.sum[j * m + i] {
                throw bad("sum is not symmetric (sum[\(i), \(j)] = \(s.sum[i * m + j]), sum[\(j), \(i)] = \(s.sum[j * m + i]))")
            }
        }
        if let recorded = doc["sha256"]?.stringValue {
            guard recorded == s.sha256 else { throw bad("damaged: the sum and count do not match the recorded sha256 \(recorded.prefix(16))…") }
        } else if requireContentHash {
            throw bad("no sha256 of its content in the metadata")
        }
        if exact, let info = file.info(named: exactTensor) {
            let n = width * (width + 1) / 2
            guard info.type == .safetensors(.i64), info.shape == [n, 2],
                  doc["exact_fraction_bits"]?.nonNegativeInt == ExactKeySum.fractionBits else {
                throw bad("tensor \(exactTensor) must be I64 [\(n), 2] with exact_fraction_bits \(ExactKeySum.fractionBits)")
            }
            guard let e = try ExactKeySum.decode(width: width, file: file, tensor: exactTensor) else {
                throw bad("tensor \(exactTensor) holds a value out of range")
            }
            guard e.matches(s.sum) else { throw bad("tensor \(exactTensor) does not match the sum: damaged") }
            s.exact = e
        }
        return (s, meta)
    }

    /// `K/N` with 1 ≤ K ≤ N (both decimal), else nil.
    package static func parsePart(_ text: String) -> (Int, Int)? {
        let f = text.split(separator: "/", omittingEmptySubsequences: false)
        guard f.count == 2, f.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let k = Int(f[0]), let n = Int(f[1]), k >= 1, k <= n else { return nil }
        return (k, n)
    }
}
