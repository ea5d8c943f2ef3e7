import PruneFormats
/// Compares the headers of two models: format, tensor sets, shapes, dtypes, order and metadata.
enum DiffLayoutComparer {
    static func compare(_ a: ModelHeader, _ b: ModelHeader) -> DiffLayout {
        var layout = DiffLayout(formatA: a.format, formatB: b.format, versionA: a.version, versionB: b.version,
                                compressedA: false, compressedB: false,
                                tensorCountA: a.tensors.count, tensorCountB: b.tensors.count)
        var byNameB: [String: TensorInfo] = [:]
        for t in b.tensors { byNameB[t.name] = t }
        let namesA = Set(a.tensors.map(\.name))
        layout.onlyInA = a.tensors.map(\.name).filter { byNameB[$0] == nil }
        layout.onlyInB = b.tensors.map(\.name).filter { !namesA.contains($0) }
        var lastOffset = -1
        for ta in a.tensors {
            guard let tb = byNameB[ta.name] else { continue }
            if ta.shape != tb.shape { layout.shapeMismatches.append(.init(name: ta.name, a: ta.shape, b: tb.shape)) }
            if ta.type != tb.type { layout.typeMismatches.append(.init(name: ta.name, a: ta.type, b: tb.type)) }
            if tb.offset <= lastOffset { layout.orderDiffers = true }
            lastOffset = tb.offset
        }
        if a.format == b.format { layout.metadataChanges = metadataChanges(a, b) }
        if case .gguf(let ga) = a, case .gguf(let gb) = b, ga.alignment != gb.alignment {
            layout.alignment = (ga.alignment, gb.alignment)
        }
        return layout
    }

    /// Keys present on one side only or with different values, in A's order then B's new keys.
    static func metadataChanges(_ a: ModelHeader, _ b: ModelHeader) -> [DiffLayout.MetadataChange] {
        let ea = entries(a), eb = entries(b)
        var valuesB: [String: String] = [:]
        for (k, v) in eb { valuesB[k] = v }
        var keysA = Set<String>()
        var out: [DiffLayout.MetadataChange] = []
        for (k, v) in ea {
            keysA.insert(k)
            let other = valuesB[k]
            if other != v { out.append(.init(key: k, a: v, b: other)) }
        }
        for (k, v) in eb where !keysA.contains(k) { out.append(.init(key: k, a: nil, b: v)) }
        return out
    }

    /// Metadata as (key, short rendering) pairs; long arrays are abbreviated but compared whole.
    static func entries(_ h: ModelHeader) -> [(String, String)] {
        switch h {
        case .safetensors(let s):
            return (s.metadata ?? []).map { ($0.key, JSONNode.string($0.value).serialized()) }
        case .gguf(let g):
            return g.keyValues.map { kv in
                let full = kv.value.json().serialized()
                let short = kv.value.json(arrayLimit: 4).serialized()
                // Distinct full values must not render alike: add a digest when abbreviated.
                return (kv.key, short == full ? full : short + " sha256:" + String(SHA256Hasher.hex(Array(full.utf8)).prefix(12)))
            }
        }
    }
}
