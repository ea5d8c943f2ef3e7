import Foundation
import CBLAS
import PruneFormats
import PruneKit
import PruneRuntime

/// Σ k kᵀ and the count of keys k (the inputs of one layer's MLP down projection) over a text:
/// C = sum / count is the uncentred second moment ROME, MEMIT and AlphaEdit need. Partial
/// statistics of the same model and layer add up (`merged`), so a large corpus can be computed in
/// shards. Stored as a safetensors file (`sum` f64 m × m, `count` i64) with the identity in its
/// metadata (prune-stats(1)).
public struct KeyStatistics: Sendable, Equatable {
    public static let formatName = "prune-stats"
    public static let formatVersion = 1

    /// Identity of the model part the keys depend on (see `StatisticsIdentity.modelHash`).
    public var modelHash: String
    public var layer: Int
    /// m, the width of the keys.
    public var width: Int
    /// Row-major m × m, symmetric. Empty when the statistics are held by their exact sum alone
    /// (`exact`, as `StatisticsComputer` gives them for a file): the file's sum is then written from
    /// it row by row, and no m × m matrix of f64 is made.
    public var sum: [Double]
    /// Number of keys (token positions) added.
    public var count: Int
    /// Documents read.
    public var documents: Int
    /// SHA-256 of each text the statistics came from, with its caps (one entry per shard).
    public var sources: [Source]
    /// The sum held exactly (`ExactKeySum`), from which `sum` is written: what makes merged parts
    /// byte-identical to one run. Nil for files written before it, and when read for an edit.
    public var exact: ExactKeySum?

    public struct Source: Sendable, Equatable {
        public var textSHA256: String
        public var docTokens: Int
        public var maxTokens: Int
        public var maxDocuments: Int
        public var tokens: Int
        /// `--part K/N`: the K-th (1-based) of N slices of the text's chunks; 0/0 for the whole text.
        public var part: Int
        public var parts: Int
        /// The OpenBLAS kernel family of a part (`BLASCore.name`): the chunk sums of parts add up to
        /// the whole run's only when computed with the same kernels. Empty for the whole text.
        public var arithmetic: String
        public init(textSHA256: String, docTokens: Int, maxTokens: Int, maxDocuments: Int, tokens: Int,
                    part: Int = 0, parts: Int = 0, arithmetic: String = "") {
            self.textSHA256 = textSHA256
            self.docTokens = docTokens
            self.maxTokens = maxTokens
            self.maxDocuments = maxDocuments
            self.tokens = tokens
            self.part = part
            self.parts = parts
            self.arithmetic = arithmetic
        }

        /// The same text and caps.
        func sameSlicing(_ o: Source) -> Bool {
            textSHA256 == o.textSHA256 && docTokens == o.docTokens && maxTokens == o.maxTokens && maxDocuments == o.maxDocuments
        }
    }

    /// Sources with the parts of one text and caps joined into one source once all N are present
    /// (the whole run's source, at the place of the first part); refuses (naming `name`) a part given
    /// twice, parts of different splits of the same text, and parts computed with different kernels.
    static func coalesce(_ sources: [Source], name: String) throws -> [Source] {
        var out: [Source] = []
        for s in sources {
            guard s.parts > 0 else { out.append(s); continue }
            for o in out where o.parts > 0 && o.sameSlicing(s) {
                let text = "text \(s.textSHA256.prefix(16))…"
                guard o.parts == s.parts else {
                    throw FactError.statisticsMismatch(path: name, reason: "part \(s.part)/\(s.parts) and part \(o.part)/\(o.parts) of \(text) are slices of different splits: they overlap")
                }
                guard o.part != s.part else {
                    throw FactError.statisticsMismatch(path: name, reason: "part \(s.part)/\(s.parts) of \(text) is given twice")
                }
                guard o.arithmetic == s.arithmetic else {
                    throw FactError.statisticsMismatch(path: name, reason: "part \(s.part)/\(s.parts) of \(text) was computed with OpenBLAS kernels \(s.arithmetic), part \(o.part)/\(o.parts) with \(o.arithmetic): set the same OPENBLAS_CORETYPE on every machine")
                }
            }
            out.append(s)
        }
        // Join complete sets (the parts of a split are 1…N, none twice: N of them are all of them).
        var joined: [Source] = []
        var done = Set<Int>()
        for (i, s) in out.enumerated() where !done.contains(i) {
            guard s.parts > 0 else { joined.append(s); continue }
            let members = out.indices.filter { out[$0].parts == s.parts && out[$0].sameSlicing(s) }
            guard members.count == s.parts else { joined.append(s); continue }
            done.formUnion(members)
            var whole = s
            whole.tokens = members.reduce(0) { $0.addingReportingOverflow(out[$1].tokens).partialValue }
            whole.part = 0
            whole.parts = 0
            whole.arithmetic = ""
            joined.append(whole)
        }
        return joined
    }

    public init(modelHash: String, layer: Int, width: Int) {
        self.modelHash = modelHash
        self.layer = layer
        self.width = width
        self.sum = [Double](repeating: 0, count: width * width)
        self.count = 0
        self.documents = 0
        self.sources = []
        self.exact = nil
    }

    /// C = sum / count as a Matrix (count 0 gives zeros).
    public var moment: Matrix {
        var copy = self
        return copy.takeMoment()
    }

    /// C = sum / count, made in the sum's own buffer, which it takes (`sum` is left empty): the
    /// statistics of an edit need no second m × m matrix. The bits of `moment`.
    public mutating func takeMoment() -> Matrix {
        precondition(!isExactOnly, "takeMoment: the statistics are held by their exact sum alone")
        let c = count > 0 ? 1 / Double(count) : 0
        var values = sum
        sum = []
        values.withUnsafeMutableBufferPointer { v in
            for i in v.indices { v[i] *= c }
        }
        return try! Matrix(rows: width, cols: width, values: values)
    }

    /// Adds partial statistics of the same model part and layer (read from `otherName`), in place.
    /// Exact when both hold their exact sums (the result then does not depend on how the text was
    /// split or the order of the files); else added in f64, as for files of a prune before them.
    public mutating func merge(_ other: KeyStatistics, otherName: String) throws {
        try other.requireMatch(layer: layer, width: width, modelHash: modelHash, name: otherName, expected: "the others are")
        let (c, o) = count.addingReportingOverflow(other.count)
        guard !o else { throw FactError.statisticsMismatch(path: otherName, reason: "the counts overflow") }
        let joined = try Self.coalesce(sources + other.sources, name: otherName)
        if exact != nil, let e = other.exact {
            try exact!.add(e, name: otherName)
            if !isExactOnly { exact!.fill(&sum) }
        } else {
            // A file of a prune before the exact sums: added in f64, as then.
            if isExactOnly, let e = exact { sum = e.doubles() }
            exact = nil
            let add = other.isExactOnly ? other.exact!.doubles() : other.sum
            sum.withUnsafeMutableBufferPointer { s in
                add.withUnsafeBufferPointer { t in for i in s.indices { s[i] += t[i] } }
            }
        }
        count = c
        documents += other.documents
        sources = joined
    }

    /// Refuses statistics (read from `name`) of another layer, key width or model part than `expected`
    /// says: what `prune-stats merge` and a statistics file given to a fact edit both check.
    public func requireMatch(layer: Int, width: Int, modelHash: String, name: String, expected: String) throws {
        guard self.layer == layer else {
            throw FactError.statisticsMismatch(path: name, reason: "layer \(self.layer), \(expected) \(layer)")
        }
        guard self.width == width else {
            throw FactError.statisticsMismatch(path: name, reason: "keys of width \(self.width), \(expected) \(width)")
        }
        guard self.modelHash == modelHash else {
            throw FactError.statisticsMismatch(path: name, reason: "computed on another model (\(self.modelHash.prefix(16))…, \(expected) \(modelHash.prefix(16))…)")
        }
    }

    /// The spectrum of the sum scaled to a unit diagonal (D^-½ Σ D^-½, D its diagonal), and its
    /// numerical rank.
    public struct Spectrum: Sendable {
        public var smallest: Double
        public var largest: Double
        /// Eigenvalues above the noise floor `tolerance` (a zero diagonal entry counts as a lost rank).
        public var rank: Int
        public var tolerance: Double
    }

    /// The spectrum of `sum` scaled to a unit diagonal, refused (naming `name`) when it is not
    /// positive semidefinite. Scaling first makes a key coordinate that is tiny but real (a neuron
    /// that is almost never active: a diagonal entry 1e-13 of the largest) weigh as much as the
    /// others, while an exact dependency among the keys (fewer tokens than the width) stays one.
    /// Each product of f32 keys is exact in f64 and the sums of `count` of them round by about
    /// `count`·ε relative to the entries; the eigensolver adds about `width`·ε·λ_max: an eigenvalue
    /// within (count + width)·ε·λ_max of zero is zero, one below −that is a sum no keys can give.
    /// Holds one m × m matrix besides the sum (the scaled copy, which the eigensolver overwrites);
    /// `spectrumOverwritingSum` needs none.
    public func spectrum(name: String) throws -> Spectrum {
        var copy = self
        return try copy.spectrumOverwritingSum(name: name)
    }

    /// `spectrum`, computed in the sum's own buffer: the sum is left empty (read the statistics
    /// again for C).
    public mutating func spectrumOverwritingSum(name: String) throws -> Spectrum {
        precondition(!isExactOnly, "spectrum: the statistics are held by their exact sum alone")
        let m = width
        var r = sum
        sum = []
        defer { r = [] }
        var scale = [Double](repeating: 0, count: m)
        for i in 0..<m {
            let d = r[i * m + i]
            if d > 0 { scale[i] = 1 / d.squareRoot() }
        }
        try r.withUnsafeMutableBufferPointer { r in
            for i in 0..<m {
                for j in 0..<m {
                    let v = r[i * m + j]
                    if scale[i] == 0 || scale[j] == 0 {
                        guard v == 0 else {
                            throw FactError.badStatisticsFile(path: name, reason: "the sum is not positive semidefinite (sum[\(i), \(j)] ≠ 0 with a zero diagonal entry): not a sum of k kᵀ")
                        }
                        continue
                    }
                    r[i * m + j] = v * scale[i] * scale[j]
                }
            }
        }
        let values = try BLASThreads.deterministic { try Matrix.symmetricEigenvalues(overwriting: &r, n: m) }
        let largest = values.max() ?? 0, smallest = values.min() ?? 0
        let tol = Double(count + width) * Double.ulpOfOne * max(largest, 0)
        guard smallest >= -tol else {
            throw FactError.badStatisticsFile(path: name, reason: String(format: "the sum is not positive semidefinite (scaled to a unit diagonal: eigenvalue %.3e, the largest %.3e): not a sum of k kᵀ", smallest, largest))
        }
        // Zero diagonal entries give zero rows: their eigenvalues are among the zeros counted out.
        return Spectrum(smallest: smallest, largest: largest, rank: values.filter { $0 > tol }.count, tolerance: tol)
    }

    /// Whether only the exact sum holds the statistics (`sum` is empty).
    public var isExactOnly: Bool { sum.isEmpty && width > 0 }

    /// The statistics with their f64 sum made (from the exact sum, when held by it alone).
    public func materialized() -> KeyStatistics {
        guard isExactOnly, let e = exact else { return self }
        var s = self
        s.sum = e.doubles()
        return s
    }

    /// SHA-256 of the sum's and count's bytes: the statistics' own identity, recorded in sidecars.
    public var sha256: String {
        let h = SHA256Hasher()
        if isExactOnly, let e = exact {
            try? e.writeDoubles { h.update($0) }
        } else {
            sum.withUnsafeBytes { h.update($0) }
        }
        withUnsafeBytes(of: Int64(count).littleEndian) { h.update($0) }
        return h.finalizeHex()
    }

    /// A combined text identity (the one source's hash, or the hash of the sources' hashes).
    public var textSHA256: String {
        if sources.count == 1 { return sources[0].textSHA256 }
        return SHA256Hasher.hex(Array(sources.map(\.textSHA256).joined(separator: ",").utf8))
    }
}
