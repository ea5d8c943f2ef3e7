import PruneFormats
/// One edit of one tensor: low-rank factors or a dense matrix.
public enum Delta: Sendable, Equatable {
    case lowRank(LowRankDelta)
    case dense(DenseDelta)

    public var rows: Int {
        switch self { case .lowRank(let d): d.rows; case .dense(let d): d.rows }
    }
    public var cols: Int {
        switch self { case .lowRank(let d): d.cols; case .dense(let d): d.cols }
    }

    /// The delta of the transposed weight.
    public func transposed() -> Delta {
        switch self {
        case .lowRank(let d): .lowRank(d.transposed())
        case .dense(let d): .dense(d.transposed())
        }
    }
}
