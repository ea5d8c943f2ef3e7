import Foundation
import PruneFormats

extension Sidecar {
    /// Reads and checks a sidecar file: its container, its document, and the SHA-256 of every part.
    public static func read(path: String) throws -> Sidecar {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SidecarError.io(path: path, reason: "cannot read the sidecar (\(String(cString: strerror(errno))))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw SidecarError.notASidecar(path: path, reason: "it is \(ManifestPaths.kind(st.st_mode)), not a file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SidecarError.io(path: path, reason: "cannot read the sidecar")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Whether the file at `path` starts like a sidecar (a safetensors header whose metadata says
    /// `"format":"prune-sidecar"`). A JSONL manifest never does.
    public static func looksLikeSidecar(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 8), head.count == 8 else { return false }
        let n = head.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard n >= 2, n < 1 << 30, let json = try? h.read(upToCount: Int(n)), json.count == Int(n),
              let root = try? JSONNodeParser.parse([UInt8](json)),
              let meta = root["__metadata__"] else { return false }
        return meta["format"]?.stringValue == formatName
    }

    /// Parses a sidecar held in memory; `path` names it in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> Sidecar {
        let table = try SidecarContainer(bytes: bytes, path: path)
        guard table.metadata["format"] == formatName else {
            throw SidecarError.notASidecar(path: path, reason: "__metadata__.format is not \(formatName)")
        }
        guard let versionText = table.metadata["format_version"], let version = Int(versionText) else {
            throw SidecarError.malformed(path: path, reason: "missing __metadata__.format_version")
        }
        guard version <= formatVersion else { throw SidecarError.unsupportedVersion(path: path, version: version) }
        guard version >= 1 else { throw SidecarError.malformed(path: path, reason: "format_version \(version)") }
        guard let docText = table.metadata["prune"] else {
            throw SidecarError.malformed(path: path, reason: "missing __metadata__.prune")
        }
        let docBytes = Array(docText.utf8)
        if let recorded = table.metadata["prune_sha256"], recorded != SHA256Hasher.hex(docBytes) {
            throw SidecarError.partHashMismatch(path: path, part: "__metadata__.prune")
        }
        let doc: SidecarDocument
        do { doc = try JSONDecoder().decode(SidecarDocument.self, from: Data(docBytes)) } catch {
            throw SidecarError.malformed(path: path, reason: "the document in __metadata__.prune does not decode: \(error)")
        }
        for name in table.entries.keys.sorted() {
            guard let recorded = doc.parts[name] else {
                throw SidecarError.malformed(path: path, reason: "tensor \(name) is not listed in parts")
            }
            let actual = table.withBytes(name) { SHA256Hasher.hex($0) }
            guard recorded == actual else { throw SidecarError.partHashMismatch(path: path, part: name) }
        }
        guard let format = ModelFormat(rawValue: doc.model.format) else {
            throw SidecarError.malformed(path: path, reason: "unknown model format \(doc.model.format)")
        }
        var manifests: [Manifest] = []
        for (i, m) in doc.manifests.enumerated() {
            manifests.append(Manifest(name: m.name, bytes: try manifestBytes(m, index: i, table: table, path: path),
                                      sha256: m.sha256))
        }
        for e in doc.edits where e.manifest < 0 || e.manifest >= manifests.count {
            throw SidecarError.malformed(path: path, reason: "edit \(e.id) names manifest \(e.manifest)")
        }
        var tensors: [Tensor] = []
        for t in doc.tensors {
            guard t.rows > 0, t.cols > 0, !t.rows.multipliedReportingOverflow(by: t.cols).overflow else {
                throw SidecarError.malformed(path: path, reason: "bad matrix shape \(t.rows)x\(t.cols) (tensor \(t.name))")
            }
            var terms: [Term] = []
            for term in t.terms {
                guard term.edit >= 0, term.edit < doc.edits.count else {
                    throw SidecarError.malformed(path: path, reason: "term names edit \(term.edit) (tensor \(t.name))")
                }
                switch term.kind {
                case "lowrank":
                    guard let k = term.rank, k > 0, let uk = term.u, let vk = term.v else {
                        throw SidecarError.malformed(path: path, reason: "incomplete low-rank term (tensor \(t.name))")
                    }
                    let u = try table.f32(uk, shape: [t.rows, k])
                    let v = try table.f32(vk, shape: [t.cols, k])
                    terms.append(Term(edit: term.edit, delta: .lowRank(u: u, v: v, rank: k)))
                case "dense":
                    guard let dk = term.delta else {
                        throw SidecarError.malformed(path: path, reason: "incomplete dense term (tensor \(t.name))")
                    }
                    terms.append(Term(edit: term.edit, delta: .dense(try table.f32(dk, shape: [t.rows, t.cols]))))
                default:
                    throw SidecarError.malformed(path: path, reason: "unknown term kind \(term.kind) (tensor \(t.name))")
                }
            }
            let r = t.restrained.rank
            guard r >= 0 else { throw SidecarError.malformed(path: path, reason: "negative rank (tensor \(t.name))") }
            let factors = Factors(rank: r,
                                  u: try table.f32(t.restrained.u, shape: [t.rows, r]),
                                  v: try table.f32(t.restrained.v, shape: [t.cols, r]))
            guard Residual.codecs.contains(t.residual.codec) else {
                throw SidecarError.malformed(path: path, reason: "unknown residual codec \(t.residual.codec) (tensor \(t.name))")
            }
            if let f = t.forwardResidual, f.codec != t.residual.codec || f.length != t.residual.length {
                throw SidecarError.malformed(path: path, reason: "forward residual codec or length differs from the residual's (tensor \(t.name))")
            }
            var record = Tensor(
                name: t.name, type: t.type, shape: t.shape, rows: t.rows, cols: t.cols,
                baseSHA256: t.baseSHA256, outputSHA256: t.outputSHA256, terms: terms, sigmaMax: t.sigmaMax,
                restrained: factors,
                spectrumBefore: try table.f64(t.spectrumBefore),
                spectrumAfter: try table.f64(t.spectrumAfter),
                componentsRestrained: t.componentsRestrained,
                kappa: try t.kappa.map { try table.f64($0) },
                residual: try table.u8(t.residual.data, count: nil), residualCodec: t.residual.codec,
                residualLength: t.residual.length)
            record.forwardResidual = try t.forwardResidual.map { try table.u8($0.data, count: nil) }
            tensors.append(record)
        }
        var checkpoint: Checkpoint?
        if let c = doc.model.checkpoint {
            guard format == .safetensors else {
                throw SidecarError.malformed(path: path, reason: "a checkpoint folder of format \(format.rawValue)")
            }
            let index = try table.u8(c.baseIndex, count: nil)
            guard SHA256Hasher.hex(index) == c.baseIndexSHA256 else {
                throw SidecarError.partHashMismatch(path: path, part: c.baseIndex)
            }
            for s in c.shards where !CheckpointFolder.isPlainName(s.name) || !s.name.hasSuffix(".safetensors") {
                throw SidecarError.malformed(path: path, reason: "checkpoint shard name \(s.name)")
            }
            for f in c.files where f.name.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) || f.name.hasPrefix("/") {
                throw SidecarError.malformed(path: path, reason: "checkpoint file name \(f.name)")
            }
            // An empty index name records a folder of one model.safetensors and no index.
            let indexless = c.index.isEmpty && index.isEmpty && c.shards.map(\.name) == [CheckpointFolder.singleFile]
            guard CheckpointFolder.isPlainName(c.index) || indexless else {
                throw SidecarError.malformed(path: path, reason: "checkpoint index name \(c.index)")
            }
            checkpoint = Checkpoint(
                index: c.index, baseIndex: index, outputIndexSHA256: c.outputIndexSHA256,
                shards: c.shards, files: c.files)
        }
        var s = Sidecar(
            model: Model(format: format, baseSHA256: doc.model.baseSHA256, outputSHA256: doc.model.outputSHA256,
                         checkpoint: checkpoint),
            parameters: doc.parameters,
            manifests: manifests,
            edits: try doc.edits.map {
                Edit(manifest: $0.manifest, id: $0.id, kind: $0.kind, line: $0.line, tensors: $0.tensors,
                     facts: try $0.facts.map { try table.u8($0, count: nil) })
            },
            tensors: tensors)
        s.formatVersion = doc.formatVersion
        s.toolVersion = doc.toolVersion
        return s
    }
}

extension Sidecar {
    /// A manifest's bytes: verbatim (format 1, and format 2 `verbatim`) or rebuilt from its template
    /// (format 2 `template`), which must give the recorded length and SHA-256.
    static func manifestBytes(_ m: SidecarDocument.ManifestDoc, index: Int, table: SidecarContainer, path: String) throws -> [UInt8] {
        switch m.encoding ?? "verbatim" {
        case "verbatim":
            return try table.u8(m.data, count: m.bytes)
        case "template":
            guard let literalBytes = m.literalBytes, literalBytes >= 0, literalBytes <= m.bytes, let pieceDocs = m.pieces else {
                throw SidecarError.malformed(path: path, reason: "manifest \(index): template without literal_bytes or pieces")
            }
            var pieces: [ManifestTemplate.Piece] = []
            for p in pieceDocs {
                switch (p.literal, p.base64) {
                case (let n?, nil) where n >= 0: pieces.append(.literal(n))
                case (nil, let name?): pieces.append(.base64(name))
                default: throw SidecarError.malformed(path: path, reason: "manifest \(index): a piece is neither literal nor base64")
                }
            }
            let packed = try table.u8(m.data, count: nil)
            let literals: [UInt8]
            do { literals = try ZstdBuffer.decompress(packed, length: literalBytes) } catch let e as ZstdBufferError {
                throw SidecarError.malformed(path: path, reason: "manifest \(index): " + e.reason)
            }
            let rebuilt = try ManifestTemplate.rebuild(pieces, literals: literals, part: { name in
                guard table.entries[name]?.dtype == .f32 else {
                    throw SidecarError.malformed(path: path, reason: "manifest \(index) quotes \(name), not an F32 part")
                }
                return table.withBytes(name) { Array($0) }
            })
            guard let rebuilt, rebuilt.count == m.bytes, SHA256Hasher.hex(rebuilt) == m.sha256 else {
                throw SidecarError.partHashMismatch(path: path, part: "\(m.data) (manifest \(index) rebuilt from its template)")
            }
            return rebuilt
        default:
            throw SidecarError.malformed(path: path, reason: "manifest \(index): unknown encoding \(m.encoding ?? "")")
        }
    }
}

/// The tensor table of a sidecar's safetensors container, checked strictly: offsets in range,
/// contiguous, sizes matching dtype and shape.
struct SidecarContainer {
    struct Entry {
        var dtype: SafetensorsDType
        var shape: [Int]
        var range: Range<Int>
    }

    let path: String
    let bytes: [UInt8]
    var metadata: [String: String] = [:]
    var entries: [String: Entry] = [:]

    /// The container is a safetensors file: its header goes through the same strict parser as a
    /// model's (offsets contiguous and in range, sizes matching dtype and shape, no duplicates, no
    /// trailing bytes); a failure is reported as "not a prune sidecar" with the parser's reason.
    init(bytes: [UInt8], path: String) throws {
        self.path = path
        self.bytes = bytes
        guard bytes.count >= 8 else { throw SidecarError.notASidecar(path: path, reason: "shorter than 8 bytes") }
        let header: SafetensorsHeader
        do {
            header = try SafetensorsParser.parseHeader(ByteStream(path: path, mapped: MappedFile(copying: bytes)))
        } catch let e as LocalizedError {
            var reason = e.errorDescription ?? "\(e)"
            if reason.hasPrefix(path + ": ") { reason.removeFirst(path.count + 2) }
            throw SidecarError.notASidecar(path: path, reason: reason)
        }
        for m in header.metadata ?? [] { metadata[m.key] = m.value }
        for t in header.tensors {
            guard case .safetensors(let dtype) = t.type else { continue }
            let start = header.dataStart + t.offset
            entries[t.name] = Entry(dtype: dtype, shape: t.shape, range: start..<(start + t.byteCount))
        }
    }

    func withBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let r = entries[name]?.range ?? 0..<0
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[r])) }
    }

    private func entry(_ name: String, _ dtype: SafetensorsDType, shape: [Int]?) throws -> Entry {
        guard let e = entries[name] else { throw SidecarError.malformed(path: path, reason: "missing tensor \(name)") }
        guard e.dtype == dtype else {
            throw SidecarError.malformed(path: path, reason: "tensor \(name) is \(e.dtype.rawValue), expected \(dtype.rawValue)")
        }
        if let shape, shape != e.shape {
            throw SidecarError.malformed(path: path, reason: "tensor \(name) has shape \(e.shape), expected \(shape)")
        }
        return e
    }

    func u8(_ name: String, count: Int?) throws -> [UInt8] {
        let e = try entry(name, .u8, shape: count.map { [$0] })
        guard e.shape.count == 1 else { throw SidecarError.malformed(path: path, reason: "tensor \(name) is not a vector") }
        return Array(bytes[e.range])
    }

    func f32(_ name: String, shape: [Int]?) throws -> [Float] {
        let e = try entry(name, .f32, shape: shape)
        return withBytes(name) { raw in
            (0..<(e.range.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    func f64(_ name: String, shape: [Int]? = nil) throws -> [Double] {
        let e = try entry(name, .f64, shape: shape)
        guard e.shape.count == 1 || shape != nil else {
            throw SidecarError.malformed(path: path, reason: "tensor \(name) is not a vector")
        }
        return withBytes(name) { raw in
            (0..<(e.range.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
    }
}
