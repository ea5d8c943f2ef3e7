/// A file a manifest line refers to (a value file, or a file of an adapter folder): an input of the
/// run like the manifest itself, which no output may overwrite.
public struct ReferencedFile: Sendable, Equatable {
    /// The resolved path (symbolic links followed).
    public var path: String
    /// The path as the manifest writes it.
    public var written: String
    /// The manifest line.
    public var line: Int
}
