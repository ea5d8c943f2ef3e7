import Foundation
import PruneFormats

/// The audit as JSON (`prune-audit --json`) and as text.
extension AuditReport {
    public func json() -> JSONNode {
        let s = sidecar
        return .object([
            m("sidecar", .string(sidecarPath)),
            m("verdict", verdict.map { .string($0.rawValue) } ?? .null),
            m("integrity", .object([
                m("ok", .bool(integrity.ok)),
                m("parts_verified", .int(integrity.partsVerified)),
                m("manifests_verified", .int(integrity.manifestsVerified)),
                m("consistent", .bool(sound)),
            ])),
            m("verified", .array(verified.map { .string($0) })),
            m("not_verified", .array(unverified.map { .string($0) })),
            m("problems", .array(problems.map { .string($0) })),
            m("format_version", .int(s.formatVersion)),
            m("tool_version", .string(s.toolVersion)),
            m("base", .object([
                m("format", .string(s.model.format.rawValue)),
                m("base_sha256", .string(s.model.baseSHA256)),
                m("output_sha256", .string(s.model.outputSHA256)),
            ])),
            m("parameters", .object([
                m("restraint", .string(s.parameters.restraint)),
                m("alpha", DiffText.number(s.parameters.alpha)),
                m("schedule", .string(s.parameters.schedule)),
                m("kappa", .bool(s.parameters.kappa)),
                m("tool_version", .string(s.toolVersion)),
            ])),
            m("manifests", .array(s.manifests.map {
                .object([m("name", .string($0.name)), m("sha256", .string($0.sha256)), m("bytes", .int($0.bytes.count))])
            })),
            m("edits", .array(s.edits.map {
                .object([m("id", .string($0.id)), m("kind", .string($0.kind)), m("manifest", .int($0.manifest)),
                         m("line", .int($0.line)), m("tensors", .array($0.tensors.map { .string($0) }))])
            })),
            m("tensors", .array(tensors.map { tensorJSON($0) })),
            m("model", model.map { modelJSON($0) } ?? .null),
            m("base_replay", base.map { baseJSON($0) } ?? .null),
            m("adapter", adapter.map { adapterJSON($0) } ?? .null),
        ])
    }

    private func adapterJSON(_ a: AdapterAudit) -> JSONNode {
        .object([
            m("path", .string(a.path)),
            m("format", .string(a.format == .gguf ? "llama.cpp" : "peft")),
            m("recorded_base_sha256", a.recordedBase.map { .string($0) } ?? .null),
            m("pairs", .array(a.pairs.map { p in
                .object([m("target", .string(p.target)), m("tensor", p.sidecarTensor.map { .string($0) } ?? .null),
                         m("state", .string(p.state.rawValue)),
                         m("rank", p.rank.map { .int($0) } ?? .null), m("expected_rank", p.expectedRank.map { .int($0) } ?? .null),
                         m("scale", DiffText.number(p.scale)), m("largest", DiffText.number(p.largest)),
                         m("worst_difference", DiffText.number(p.worstDifference)), m("bound_there", DiffText.number(p.worstBound))])
            })),
            m("problems", .array(a.problems.map { .string($0) })),
        ])
    }

    private func baseJSON(_ b: AuditBaseReplay) -> JSONNode {
        .object([
            m("path", .string(b.path)),
            m("sha256", .string(b.sha256)),
            m("is_recorded_base", .bool(b.isRecordedBase)),
            m("replayed_sha256", .string(b.replayedSHA256)),
            m("matches_recorded_output", .bool(b.matchesRecordedOutput)),
            m("tensors", .array(b.tensors.map {
                .object([m("name", .string($0.name)), m("base_matches", .bool($0.baseMatches)),
                         m("materialised", $0.materialised.map { .bool($0) } ?? .null),
                         m("sigma_max_w0", DiffText.number($0.sigmaMax)),
                         m("finite", $0.finite.map { .bool($0) } ?? .null)])
            })),
        ])
    }

    private func tensorJSON(_ a: AuditTensor) -> JSONNode {
        let t = a.record
        var members = [
            m("name", .string(t.name)),
            m("dtype", .string(t.type)),
            m("shape", .array(t.shape.map { .int($0) })),
            m("rows", .int(t.rows)), m("cols", .int(t.cols)),
            m("edits", .array(a.editIndices.map { .string(sidecar.edits[$0].id) })),
            m("sigma_max_w0", DiffText.number(t.sigmaMax)),
            m("top_singular_values_before", .array(t.spectrumBefore.prefix(8).map { DiffText.number($0) })),
            m("top_singular_values_after", .array(t.spectrumAfter.prefix(8).map { DiffText.number($0) })),
            m("components_restrained", .int(t.componentsRestrained)),
            m("relative_perturbation", DiffText.number(a.relativePerturbation)),
            m("rank_before", .int(a.recomputedBefore.count)),
            m("rank_after", .int(t.restrained.rank)),
            m("base_sha256", .string(t.baseSHA256)),
            m("output_sha256", .string(t.outputSHA256)),
        ]
        if let k = t.kappa, k.count == 3 {
            members.append(m("kappa", .object([m("w0", DiffText.number(k[0])), m("w0_plus_raw", DiffText.number(k[1])),
                                               m("w0_plus_restrained", DiffText.number(k[2]))])))
        } else {
            members.append(m("kappa", t.kappa.map { .array($0.map { DiffText.number($0) }) } ?? .null))
        }
        members.append(m("check", .object([
            m("consistent", .bool(a.consistent)),
            m("spectrum_error", DiffText.number(a.spectrumError)),
            m("restraint_error", DiffText.number(a.restraintError)),
            m("recounted_restrained", .int(a.recountedRestrained)),
            m("restrained_delta_error", DiffText.number(a.restrainedError)),
            m("sigma_max_from_weights", DiffText.number(a.sigmaMaxFromWeights)),
            m("materialised", a.materialised.map { .bool($0) } ?? .null),
            m("output_finite", a.outputFinite.map { .bool($0) } ?? .null),
            m("problems", .array(a.problems.map { .string($0) })),
        ])))
        if let match = model?.tensors.first(where: { $0.name == t.name }) {
            members.append(m("model_match", .string(match.state.rawValue)))
        }
        return .object(members)
    }

    private func modelJSON(_ mm: AuditModelMatch) -> JSONNode {
        .object([
            m("path", .string(mm.path)),
            m("sha256", .string(mm.sha256)),
            m("verdict", .string(mm.verdict.rawValue)),
            m("tensors", .array(mm.tensors.map { .object([m("name", .string($0.name)), m("match", .string($0.state.rawValue))]) })),
        ] + (mm.shards.map { list in
            [m("shards", .array(list.map {
                .object([m("name", .string($0.name)), m("file", .string($0.file)), m("sha256", .string($0.sha256)),
                         m("match", .string($0.state.rawValue)), m("untouched", .bool($0.untouched))])
            }))]
        } ?? []))
    }

    public func text() -> String {
        let s = sidecar
        var out = "sidecar: \(sidecarPath) (format \(s.formatVersion), written by prune \(s.toolVersion))\n"
        out += "integrity: ok (\(integrity.partsVerified) parts and \(integrity.manifestsVerified) manifest\(integrity.manifestsVerified == 1 ? "" : "s") match their SHA-256)\n"
        let folder = s.model.checkpoint.map { " (checkpoint folder: \($0.shards.count) shards, \($0.index); digest of the shards' SHA-256)" } ?? ""
        out += "base: \(s.model.format.rawValue)\(folder), sha256 \(s.model.baseSHA256)\n"
        out += "output: sha256 \(s.model.outputSHA256)\n"
        let alpha = s.parameters.restraint == "log" ? ", α \(DiffText.format(s.parameters.alpha))" : ""
        out += "parameters: restraint \(s.parameters.restraint)\(alpha), schedule \(s.parameters.schedule), κ \(s.parameters.kappa ? "recorded" : "not recorded")\n"
        out += "manifests:\n"
        for (i, mf) in s.manifests.enumerated() {
            out += "  \(i): \(mf.name) (\(mf.bytes.count) bytes, sha256 \(mf.sha256.prefix(16))…)\n"
        }
        out += "edits: \(s.edits.count)\n"
        var rows = [["id", "kind", "manifest:line", "tensors"]]
        for e in s.edits {
            rows.append([e.id, e.kind, "\(e.manifest):\(e.line)", e.tensors.joined(separator: ", ")])
        }
        out += DiffText.table(rows)
        out += "tensors: \(tensors.count)\n"
        var trows = [["tensor", "dtype", "σmax(W₀)", "top σ(ΔW)", "top σ(ΔW̄)", "restrained", "κ W₀→W₀+ΔW̄", "‖ΔW̄‖/‖W₀‖", "check"]]
        for a in tensors {
            let t = a.record
            let kappa = t.kappa.flatMap { $0.count == 3 ? "\(DiffText.format($0[0]))→\(DiffText.format($0[2]))" : nil } ?? "-"
            trows.append([t.name, t.type, DiffText.format(t.sigmaMax),
                          t.spectrumBefore.prefix(3).map(DiffText.format).joined(separator: ","),
                          t.spectrumAfter.prefix(3).map(DiffText.format).joined(separator: ","),
                          "\(t.componentsRestrained)", kappa, DiffText.optional(a.relativePerturbation),
                          a.consistent ? "ok" : "MISMATCH"])
        }
        out += DiffText.table(trows)
        if let b = base {
            out += "base given: \(b.path): " + (b.isRecordedBase
                ? (b.matchesRecordedOutput ? "the recorded base; replayed on it, the sidecar gives the recorded output\n"
                                           : "the recorded base, but replayed on it the sidecar does not give the recorded output\n")
                : "NOT the recorded base (sha256 \(b.sha256))\n")
        }
        if let a = adapter {
            let kind = a.format == .gguf ? "llama.cpp adapter" : "PEFT adapter"
            out += "adapter: \(a.path) (\(kind)): \(a.pairs.count) pair\(a.pairs.count == 1 ? "" : "s"), each compared as the engine applies it (scale·B·A) with the restrained delta\n"
            var arows = [["weight", "tensor", "rank", "scale", "max |ΔW̄|", "worst |diff|", "f32 bound there", "check"]]
            for p in a.pairs {
                arows.append([p.target, p.sidecarTensor ?? "-", p.rank.map { "\($0)" } ?? "-", DiffText.optional(p.scale),
                              DiffText.optional(p.largest), DiffText.optional(p.worstDifference), DiffText.optional(p.worstBound),
                              p.state == .ok ? "ok" : p.state.rawValue.uppercased()])
            }
            out += DiffText.table(arows)
        }
        if let mm = model {
            out += "model: \(mm.path): \(mm.verdict.rawValue.uppercased())"
            switch mm.verdict {
            case .base: out += " (its SHA-256 is the sidecar's base hash)\n"
            case .edited: out += " (its SHA-256 is the sidecar's output hash)\n"
            case .neither: out += " (sha256 \(mm.sha256) is neither the base nor the output)\n"
            }
            if let shards = mm.shards {
                if mm.verdict == .neither {
                    for sh in shards {
                        let state = sh.untouched && sh.state == .base ? "untouched (its recorded hash)" : sh.state.rawValue
                        out += "  shard \(sh.file): \(state)\n"
                    }
                } else {
                    let edited = shards.filter { !$0.untouched }.count
                    out += "  shards: \(shards.count), each with its recorded \(mm.verdict == .edited ? "output" : "base") SHA-256 "
                        + "(\(edited) edited, \(shards.count - edited) untouched)\n"
                }
            }
            if mm.verdict == .neither {
                for t in mm.tensors { out += "  \(t.name): \(t.state.rawValue)\n" }
                if mm.tensors.allSatisfy({ $0.state == .edited }) {
                    out += "  every edited tensor matches the output: the difference is elsewhere\n"
                } else if mm.tensors.allSatisfy({ $0.state == .base }) {
                    out += "  every edited tensor matches the base: the difference is elsewhere\n"
                }
            }
        }
        out += "verified:\n" + verified.map { "  - \($0)\n" }.joined()
        out += "not verified, taken from the sidecar:\n" + unverified.map { "  - \($0)\n" }.joined()
        if !problems.isEmpty {
            out += "PROBLEMS:\n" + problems.map { "  - \($0)\n" }.joined()
        }
        return out
    }
}

private func m(_ key: String, _ value: JSONNode) -> JSONNodeMember { JSONNodeMember(key: key, value: value) }
