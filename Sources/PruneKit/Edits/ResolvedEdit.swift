import PruneFormats
/// An edit placed on a model: one delta per tensor it touches, in that tensor's stored orientation.
public struct ResolvedEdit: Sendable {
    public var id: String
    public var line: Int
    /// "lowrank", "dense" or "lora".
    public var kind: String
    public var targets: [TensorDelta]

    public init(id: String, line: Int, kind: String, targets: [TensorDelta]) {
        self.id = id
        self.line = line
        self.kind = kind
        self.targets = targets
    }
}

/// A delta of one tensor in the STORED matrix orientation of `tensor` (`TensorInfo.matrixShape`).
public struct TensorDelta: Sendable {
    /// The file's own tensor name.
    public var tensor: String
    /// == `TensorInfo.matrixShape` of the tensor (a 1-D tensor of n values is 1 × n).
    public var rows: Int
    public var cols: Int
    public var delta: DeltaValue

    public init(tensor: String, rows: Int, cols: Int, delta: DeltaValue) {
        self.tensor = tensor
        self.rows = rows
        self.cols = cols
        self.delta = delta
    }
}

public enum DeltaValue: Sendable {
    /// ΔW = u·vᵀ: u is rows × rank, v is cols × rank, both row-major; the scale is folded into u.
    case lowRank(u: [Float], v: [Float], rank: Int)
    /// ΔW, rows × cols row-major, scale folded in.
    case dense([Float])
}

extension TensorDelta {
    /// The delta as a dense rows × cols row-major matrix (products summed in Double, in index order).
    public func denseValues() -> [Float] {
        switch delta {
        case .dense(let d): return d
        case .lowRank(let u, let v, let k):
            var out = [Float](repeating: 0, count: rows * cols)
            for i in 0..<rows {
                for j in 0..<cols {
                    var s = 0.0
                    for r in 0..<k { s += Double(u[i * k + r]) * Double(v[j * k + r]) }
                    out[i * cols + j] = Float(s)
                }
            }
            return out
        }
    }
}
