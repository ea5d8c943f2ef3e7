import PruneFormats
/// When the restraint is applied along a sequence of edits on one tensor.
public enum RestraintSchedule: String, Sendable, Equatable, CaseIterable {
    /// Restrain the total accumulated delta once, after the whole sequence (the reference
    /// behaviour): result = R(δ₁ + … + δₙ).
    case end
    /// Restrain after every edit, so each later edit starts from the restrained weights:
    /// R₀ = 0, Rₜ = R(Rₜ₋₁ + δₜ), result = Rₙ. The "accumulated delta" at step t is Rₜ₋₁ + δₜ,
    /// i.e. the difference between the weights the edit produced (restrained weights of the
    /// previous step plus the new edit) and the ORIGINAL W₀; σ_max is always σ_max(W₀) of the
    /// original weights, never of the edited ones.
    case each

    public init(name: String) throws {
        guard let s = RestraintSchedule(rawValue: name.lowercased()) else { throw RestraintError.unknownSchedule(name) }
        self = s
    }
}

/// The ε of the numerical-rank tolerance σ₁·max(rows, cols)·ε (numpy's `matrix_rank` rule).
public enum RankEpsilon: Sendable, Equatable {
    /// ε of float64 (2.22e-16): the reference run on float64 arrays (our reference tests).
    case float64
    /// ε of float32 (1.19e-7): the reference run on float32 arrays, as on f32 torch weights.
    case float32
    case custom(Double)

    public var value: Double {
        switch self {
        case .float64: Double.ulpOfOne
        case .float32: Double(Float.ulpOfOne)
        case .custom(let e): e
        }
    }
}

/// Everything that selects how a delta is restrained.
public struct RestraintConfiguration: Sendable, Equatable {
    public var function: RestraintFunction
    public var schedule: RestraintSchedule
    /// Default `.float64`: the engine computes in float64, like the reference tests.
    public var rankEpsilon: RankEpsilon
    /// How many leading singular values the report lists.
    public var reportCount: Int

    public init(function: RestraintFunction, schedule: RestraintSchedule = .end,
                rankEpsilon: RankEpsilon = .float64, reportCount: Int = 10) {
        self.function = function
        self.schedule = schedule
        self.rankEpsilon = rankEpsilon
        self.reportCount = reportCount
    }
}
