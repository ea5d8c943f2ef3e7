/// A residual that does not decode (damaged or not made for this tensor); callers name the file and tensor.
struct ResidualFailure: Error {
    var reason: String
    init(_ r: String) { reason = r }
}
