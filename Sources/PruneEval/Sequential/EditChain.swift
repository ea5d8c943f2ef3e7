import Foundation
import PruneFacts
import PruneFormats
import PruneKit

/// One sequence of computed edits, shared by the arms whose models it was computed on: prune-apply's
/// own run of the experiment manifest (the fact engine computes edit after edit on the model as
/// edited so far), recorded in a sidecar. Its raw terms, edit by edit, give every checkpoint of its
/// arms; the `end` chain is computed on the unrestrained model, whatever its run's restraint.
package struct EditChain {
    package var key: String
    package var sidecarPath: String
    package var sidecar: Sidecar
    /// Wall seconds of computing it (0 when reused).
    package var seconds: Double
    package var reused: Bool

    /// Runs (or, with `reuse`, takes from `sidecarPath` when it holds this very chain) the chain.
    package static func make(key: String, base: String, manifest: String, configuration: RestraintConfiguration,
                             output: OutputTarget, sidecarPath: String, engine: FactEngine, threads: Int,
                             reuse: Bool, baseSHA256: () throws -> String) throws -> EditChain {
        let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: manifest))) ?? Data())
        if reuse, FileManager.default.fileExists(atPath: sidecarPath), let old = try? Sidecar.read(path: sidecarPath),
           old.manifests.count == 1, old.manifests[0].bytes == bytes,
           old.parameters.schedule == configuration.schedule.rawValue,
           configuration.schedule == .end || old.parameters.restraint == Self.restraintName(configuration.function),
           configuration.schedule == .end || old.parameters.alpha == Self.alpha(configuration.function),
           try old.model.baseSHA256 == baseSHA256() {
            return EditChain(key: key, sidecarPath: sidecarPath, sidecar: old, seconds: 0, reused: true)
        }
        var options = ApplyOptions()
        options.restraint = configuration.function
        options.schedule = configuration.schedule
        options.output.compress = false
        if threads > 0 { options.threads = threads }
        let start = DispatchTime.now().uptimeNanoseconds
        let request = ApplyRequest(model: base, manifest: manifest, output: output, sidecar: sidecarPath,
                                   options: options, facts: engine)
        let result = try Apply.run(request)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return EditChain(key: key, sidecarPath: sidecarPath, sidecar: result.sidecar, seconds: seconds, reused: false)
    }

    static func restraintName(_ f: RestraintFunction) -> String {
        switch f {
        case .log: return "log"
        case .linear: return "linear"
        case .none: return "none"
        }
    }

    static func alpha(_ f: RestraintFunction) -> Double {
        if case .log(let a) = f { return a }
        return M_E
    }

    /// The raw deltas of the first `edits` edits (manifest lines) on `tensor`, in edit order.
    package func terms(_ tensor: String, edits: Int) -> [Sidecar.Term] {
        sidecar.tensors.first { $0.name == tensor }?.terms.filter { $0.edit < edits } ?? []
    }

    /// The tensors the chain edited, in file order.
    package var tensors: [Sidecar.Tensor] { sidecar.tensors }
}
