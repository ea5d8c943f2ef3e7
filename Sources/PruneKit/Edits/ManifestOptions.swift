/// How a manifest may refer to files.
public struct ManifestOptions: Sendable, Equatable {
    /// Accept value files and adapters outside the manifest's folder (absolute paths, `..`, symbolic
    /// links leading out). Off by default: a manifest from elsewhere cannot make the tool read
    /// arbitrary files.
    public var allowOutsidePaths: Bool

    public init(allowOutsidePaths: Bool = false) {
        self.allowOutsidePaths = allowOutsidePaths
    }
}
