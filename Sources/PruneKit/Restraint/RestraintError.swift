import Foundation
import PruneFormats

/// Errors of the restraint engine and its linear-algebra layer.
///
/// Every message is one line and names the tensor (the `tensor` label the caller passed, or
/// "<matrix>" when none was given) and the place of the problem.
public enum RestraintError: LocalizedError, Equatable, Sendable {
    /// A buffer does not have the element count its declared shape requires.
    case shapeMismatch(tensor: String, what: String, expected: Int, actual: Int)
    /// Dimensions are invalid (zero, negative, or too large for LAPACK's 32-bit indices).
    case invalidDimensions(tensor: String, rows: Int, cols: Int)
    /// A LAPACK routine reported failure (`info` is LAPACK's return code).
    case lapackFailure(tensor: String, routine: String, info: Int)
    /// A value is NaN or infinite.
    case nonFinite(tensor: String, what: String, index: Int)
    /// The restraint function name is not one of e, 1.2, 1.5, 2, any number > 1, log, linear, none.
    case unknownFunction(String)
    /// The schedule name is not `end` or `each`.
    case unknownSchedule(String)
    /// σ_max(W₀) must be finite and > 0 for the log and linear functions.
    case invalidSigmaMax(tensor: String, value: Double)
    /// The top-singular-value iteration did not reach its error bound.
    case notConverged(tensor: String, passes: Int, relativeErrorBound: Double)
    /// Deltas of different shapes were combined.
    case deltaShapeMismatch(tensor: String, edit: Int, rows: Int, cols: Int, expectedRows: Int, expectedCols: Int)
    /// A restraint file (`prune-apply --restraint-file`) that cannot be used.
    case badRestraintFile(path: String, what: String)

    public var errorDescription: String? {
        switch self {
        case let .shapeMismatch(tensor, what, expected, actual):
            return "\(tensor): \(what) has \(actual) elements, expected \(expected)"
        case let .invalidDimensions(tensor, rows, cols):
            return "\(tensor): invalid matrix dimensions \(rows)x\(cols)"
        case let .lapackFailure(tensor, routine, info):
            return "\(tensor): LAPACK \(routine) failed with info=\(info)"
        case let .nonFinite(tensor, what, index):
            return "\(tensor): non-finite value in \(what) (element \(index))"
        case let .unknownFunction(name):
            return "restraint function '\(name)': expected e, 1.2, 1.5, 2, a number > 1, log, linear or none"
        case let .unknownSchedule(name):
            return "restraint schedule '\(name)': expected end or each"
        case let .invalidSigmaMax(tensor, value):
            return "\(tensor): sigma_max(W0) must be finite and > 0, got \(value)"
        case let .notConverged(tensor, passes, bound):
            return "\(tensor): sigma_max(W0) did not converge after \(passes) passes (relative error bound \(bound))"
        case let .deltaShapeMismatch(tensor, edit, rows, cols, er, ec):
            return "\(tensor): edit \(edit) is \(rows)x\(cols), expected \(er)x\(ec)"
        case let .badRestraintFile(path, what):
            return "\(path): \(what) (a restraint file: {\"kind\": \"prune-restraint\", \"restraint\", \"alpha\", \"schedule\"})"
        }
    }
}
