import Foundation

/// The table of PRUNE's figure at the user's scale: one line per checkpoint and arm (the base model
/// first), editing success on the edits so far, general ability, and the edited matrices' spectra.
package enum ExperimentTable {
    package static func text(_ rows: [ExperimentRow]) -> String {
        let taskNames = rows.first?.tasks.map { ($0.file as NSString).lastPathComponent } ?? []
        var header = ["edits", "arm", "efficacy", "paraphrase", "neighborhood", "score", "perplexity"]
        header += taskNames.map { "acc " + $0 }
        header += ["κ max", "σmax", "top σ(ΔW) → restrained"]
        var table = [header]
        func f3(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
        for r in rows {
            var line = [r.edits == 0 ? "0" : "\(r.edits)", r.arm, f3(r.efficacySuccess), f3(r.paraphraseSuccess),
                        f3(r.neighborhoodSuccess), f3(r.score), r.perplexity.map { String(format: "%.2f", $0) } ?? "-"]
            line += taskNames.indices.map { i in i < r.tasks.count ? f3(r.tasks[i].accuracy) : "-" }
            let worst = r.tensors.max { $0.kappa < $1.kappa }
            line.append(worst.map { EvaluationReport.general($0.kappa) } ?? "-")
            line.append(worst.map { EvaluationReport.general($0.sigmaMax) } ?? "-")
            if let t = worst, let b = t.deltaBefore.first, let a = t.deltaAfter.first {
                line.append("\(EvaluationReport.general(b)) → \(EvaluationReport.general(a))")
            } else {
                line.append("-")
            }
            table.append(line)
        }
        return EvaluationReport.table(table, left: 2)
    }
}
