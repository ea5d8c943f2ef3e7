/// The three ways prune computes an edit from facts.
public enum FactMethod: String, Sendable, Equatable, CaseIterable {
    /// One request, a rank-one update of one layer's MLP down projection (Meng et al. 2022).
    case rome
    /// A batch of requests spread over a range of layers (Meng et al. 2023).
    case memit
    /// MEMIT's update projected onto the null space of the preserved keys (Fang et al. 2025).
    case alphaedit
}
