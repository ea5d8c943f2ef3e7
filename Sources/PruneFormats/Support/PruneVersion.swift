/// The version of the prune toolset, recorded in every sidecar it writes.
public enum PruneVersion {
    public static let string = "0.1.0"
}
