/// How the rewriter writes its output.
public struct OutputOptions: Sendable, Equatable {
    /// zstd-compress the output (the default) or write it plain.
    public var compress: Bool
    /// zstd level (1…19; 3 is zstd's default).
    public var level: Int32
    /// zstd worker threads; 0 means one per online core. The output bytes do not depend on it:
    /// compression always runs in zstd's multi-threaded mode (nbWorkers ≥ 1), whose output is the
    /// same for any number of workers.
    public var threads: Int

    public init(compress: Bool = true, level: Int32 = 3, threads: Int = 0) {
        self.compress = compress
        self.level = level
        self.threads = threads
    }

    public static let `default` = OutputOptions()
    public static let uncompressed = OutputOptions(compress: false)
}

/// Where the rewriter writes.
public enum OutputTarget: Sendable, Equatable {
    /// A path, written atomically (temporary file in the same folder, then rename).
    case file(String)
    /// Standard output.
    case stdout
    /// Nowhere: the input is read, validated to its last byte and hashed, nothing is written.
    case discard

    /// How messages name it.
    public var name: String {
        switch self {
        case .file(let p): return p
        case .stdout: return "<stdout>"
        case .discard: return "<none>"
        }
    }
}
