/// A flat array of numbers stored in a sidecar, in the precision it was computed in.
public enum SidecarValues: Sendable, Equatable {
    case f32([Float])
    case f64([Double])

    public var count: Int {
        switch self {
        case .f32(let a): return a.count
        case .f64(let a): return a.count
        }
    }

    /// The values widened to Double (exact for both precisions).
    public var doubles: [Double] {
        switch self {
        case .f32(let a): return a.map(Double.init)
        case .f64(let a): return a
        }
    }

    var dtype: SafetensorsDType {
        switch self {
        case .f32: return .f32
        case .f64: return .f64
        }
    }
}
