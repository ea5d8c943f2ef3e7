import Foundation
import PruneFormats

/// The report as JSON (`prune-diff --json`) and as text. Numbers carry 6 significant digits, so the
/// output does not depend on the last bits of a BLAS reduction.
extension DiffReport {
    public func json() -> JSONNode {
        .object([
            m("a", .string(pathA)),
            m("b", .string(pathB)),
            m("identical", .bool(isIdentical)),
            m("tensors", .array(tensors.map { $0.json() })),
            m("unchanged", .int(unchanged)),
            m("layout", layout.json()),
        ])
    }

    public func text() -> String {
        var out = "A: \(displayName(pathA))\nB: \(displayName(pathB))\n"
        out += layout.text()
        let numeric = tensors.filter { $0.note == nil }
        if !numeric.isEmpty {
            var header = ["tensor", "dtype", "shape", "rank", "max|Δ|", "‖Δ‖/‖A‖", "top σ(Δ)", "σmax A", "σmax B"]
            let spectra = numeric.contains { $0.conditionA != nil || $0.conditionB != nil }
            if spectra { header += ["κ A", "κ B"] }
            var rows: [[String]] = [header]
            for t in numeric {
                let dtype = t.typeA == t.typeB ? t.typeA.description : "\(t.typeA)→\(t.typeB)"
                var rank = t.spectrum.map { ($0.rankIsLowerBound ? "≥" : "") + String($0.rank) } ?? "-"
                if t.spectrum?.method == "zero" { rank = "0" }
                let sv = t.spectrum.map { $0.topSingularValues.prefix(3).map(DiffText.format).joined(separator: ",") } ?? "-"
                var row = [t.name, dtype, "[" + t.shapeA.map(String.init).joined(separator: ",") + "]", rank,
                           DiffText.optional(t.maxAbs), DiffText.optional(t.relativeFrobenius), sv.isEmpty ? "-" : sv,
                           DiffText.optional(t.sigmaMaxA), DiffText.optional(t.sigmaMaxB)]
                if spectra { row += [DiffText.optional(t.conditionA), DiffText.optional(t.conditionB)] }
                rows.append(row)
            }
            out += "changed: \(tensors.count) tensor\(tensors.count == 1 ? "" : "s")\n"
            out += DiffText.table(rows)
        } else if !tensors.isEmpty {
            out += "changed: \(tensors.count) tensor\(tensors.count == 1 ? "" : "s")\n"
        }
        for t in tensors where t.note != nil {
            out += "  \(t.name): \(t.note!) (A \(t.typeA) \(t.shapeA), B \(t.typeB) \(t.shapeB))\n"
        }
        out += "unchanged: \(unchanged) tensor\(unchanged == 1 ? "" : "s") byte-identical\n"
        return out
    }
}

extension TensorDiff {
    public func json() -> JSONNode {
        var members = [
            m("name", .string(name)),
            m("changed", .bool(changed)),
            m("dtype_a", .string(typeA.description)),
            m("dtype_b", .string(typeB.description)),
            m("shape_a", .array(shapeA.map { .int($0) })),
            m("shape_b", .array(shapeB.map { .int($0) })),
        ]
        if let note { members.append(m("note", .string(note))) }
        if note == nil {
            members += [
                m("rows", .int(rows)), m("cols", .int(cols)),
                m("changed_elements", .int(changedElements)),
                m("rank", spectrum.map { .int($0.rank) } ?? .null),
                m("rank_is_lower_bound", .bool(spectrum?.rankIsLowerBound ?? false)),
                m("rank_tolerance", DiffText.number(spectrum?.tolerance)),
                m("max_abs", DiffText.number(maxAbs)),
                m("frobenius", DiffText.number(frobenius)),
                m("rel_frobenius", DiffText.number(relativeFrobenius)),
                m("top_singular_values", .array((spectrum?.topSingularValues ?? []).map { DiffText.number($0) })),
                m("spectrum_method", spectrum.map { .string($0.method) } ?? .null),
                m("sigma_max_a", DiffText.number(sigmaMaxA)),
                m("sigma_max_b", DiffText.number(sigmaMaxB)),
            ]
            if conditionA != nil || conditionB != nil {
                members += [m("condition_a", DiffText.number(conditionA)), m("condition_b", DiffText.number(conditionB))]
            }
        }
        return .object(members)
    }
}

extension DiffLayout {
    public func json() -> JSONNode {
        var members = [
            m("identical", .bool(isIdentical)),
            m("format_a", .string(formatA.rawValue)),
            m("format_b", .string(formatB.rawValue)),
            m("version_a", versionA.map { .int($0) } ?? .null),
            m("version_b", versionB.map { .int($0) } ?? .null),
            m("compressed_a", .bool(compressedA)),
            m("compressed_b", .bool(compressedB)),
            m("tensor_count_a", .int(tensorCountA)),
            m("tensor_count_b", .int(tensorCountB)),
            m("only_in_a", .array(onlyInA.map { .string($0) })),
            m("only_in_b", .array(onlyInB.map { .string($0) })),
            m("shape_mismatches", .array(shapeMismatches.map {
                .object([m("name", .string($0.name)), m("a", .array($0.a.map { .int($0) })),
                         m("b", .array($0.b.map { .int($0) }))])
            })),
            m("dtype_mismatches", .array(typeMismatches.map {
                .object([m("name", .string($0.name)), m("a", .string($0.a.description)),
                         m("b", .string($0.b.description))])
            })),
            m("metadata_changes", .array(metadataChanges.map {
                .object([m("key", .string($0.key)), m("a", $0.a.map { .string($0) } ?? .null),
                         m("b", $0.b.map { .string($0) } ?? .null)])
            })),
            m("order_differs", .bool(orderDiffers)),
        ]
        if let alignment {
            members += [m("alignment_a", .int(alignment.a)), m("alignment_b", .int(alignment.b))]
        }
        for (key, s) in [("shards_a", shardsA), ("shards_b", shardsB)] {
            if let s { members.append(m(key, .object([m("count", .int(s.count)), m("compressed", .int(s.compressed))]))) }
        }
        return .object(members)
    }

    func text() -> String {
        let fa = formatA.rawValue + (versionA.map { " v\($0)" } ?? "")
        let fb = formatB.rawValue + (versionB.map { " v\($0)" } ?? "")
        let zstd = [compressedA && shardsA == nil ? "A" : nil, compressedB && shardsB == nil ? "B" : nil].compactMap { $0 }
        var compression = zstd.isEmpty ? "" : "; \(zstd.joined(separator: " and ")) zstd-compressed"
        for (side, s) in [("A", shardsA), ("B", shardsB)] {
            guard let s else { continue }
            compression += "; \(side) in \(s.count) shards" + (s.compressed > 0 ? " (\(s.compressed) zstd-compressed)" : "")
        }
        if isIdentical {
            return "layout: same (\(fa), \(tensorCountA) tensors\(compression))\n"
        }
        var out = "layout: differs\n"
        if formatA != formatB || versionA != versionB { out += "  format: A \(fa), B \(fb)\n" }
        if tensorCountA != tensorCountB { out += "  tensors: A \(tensorCountA), B \(tensorCountB)\n" }
        if !onlyInA.isEmpty { out += "  only in A (\(onlyInA.count)): \(list(onlyInA))\n" }
        if !onlyInB.isEmpty { out += "  only in B (\(onlyInB.count)): \(list(onlyInB))\n" }
        for s in shapeMismatches { out += "  shape of \(s.name): A \(s.a), B \(s.b)\n" }
        for t in typeMismatches { out += "  dtype of \(t.name): A \(t.a), B \(t.b)\n" }
        if orderDiffers { out += "  tensor order differs\n" }
        if let alignment { out += "  alignment: A \(alignment.a), B \(alignment.b)\n" }
        for c in metadataChanges.prefix(20) {
            out += "  metadata \(c.key): A \(c.a ?? "(absent)"), B \(c.b ?? "(absent)")\n"
        }
        if metadataChanges.count > 20 { out += "  … and \(metadataChanges.count - 20) more metadata changes\n" }
        return out
    }

    private func list(_ names: [String]) -> String {
        names.count <= 8 ? names.joined(separator: ", ")
            : names.prefix(8).joined(separator: ", ") + ", … (\(names.count - 8) more)"
    }
}

private func m(_ key: String, _ value: JSONNode) -> JSONNodeMember { JSONNodeMember(key: key, value: value) }

enum DiffText {
/// A JSON number with 6 significant digits (non-finite values as strings, nil as null).
static func number(_ v: Double?) -> JSONNode {
    guard let v else { return .null }
    guard v.isFinite else { return .string(v > 0 ? "inf" : v < 0 ? "-inf" : "nan") }
    return .number(DiffText.format(v))
}

/// 6 significant digits, the same text in JSON and in tables.
static func format(_ v: Double) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    return String(format: "%.6g", v)
}

static func optional(_ v: Double?) -> String { v.map(DiffText.format) ?? "-" }

/// Left-aligned columns separated by two spaces.
static func table(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = [Int](repeating: 0, count: first.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    var out = ""
    for r in rows {
        var line = "  "
        for (i, c) in r.enumerated() {
            line += c
            if i < r.count - 1 { line += String(repeating: " ", count: widths[i] - c.count + 2) }
        }
        out += line + "\n"
    }
    return out
}
}
