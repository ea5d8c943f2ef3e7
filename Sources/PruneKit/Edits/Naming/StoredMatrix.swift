/// Where a matrix named as Hugging Face names it is stored in a model file, for code outside
/// PruneKit that must read a stored delta back in the Hugging Face orientation (the fact engine
/// continuing a sidecar's chain): the inverse of `EditManifest.placeLowRank`.
package struct StoredMatrix: Sendable, Equatable {
    /// The tensor's name in the file.
    package var tensor: String
    /// The stored orientation is the transpose of the Hugging Face one (GPT-2 Conv1D weights).
    package var transposed: Bool

    /// nil when `name` is not a matrix of `model`, or is stored with llama.cpp's q/k row permutation.
    package init?(hfName name: String, in model: ModelDescription) {
        guard let p = try? TensorLocator(model: model).locate(name), !p.isVector else { return nil }
        switch p.layout {
        case .asStored: (tensor, transposed) = (p.info.name, false)
        case .transposed: (tensor, transposed) = (p.info.name, true)
        case .permutedRows: return nil
        }
    }

    /// Stored factors (U, V) back in the Hugging Face orientation (the inverse of the placement).
    package func hfFactors(u: [Float], v: [Float]) -> (u: [Float], v: [Float]) {
        transposed ? (v, u) : (u, v)
    }
}
