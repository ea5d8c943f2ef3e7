import PruneFormats
/// What `prune-diff` found between two models A and B.
public struct DiffReport: Sendable {
    public var pathA: String
    public var pathB: String
    public var layout: DiffLayout
    /// Tensors present in both files that differ (or cannot be compared value by value), in A's data order.
    public var tensors: [TensorDiff]
    /// Tensors present in both with the same dtype, shape and bytes.
    public var unchanged: Int

    /// True when nothing differs: same layout and every tensor byte-identical.
    public var isIdentical: Bool { tensors.isEmpty && layout.isIdentical }
}

/// The difference of one tensor present in both models.
public struct TensorDiff: Sendable {
    public var name: String
    public var typeA: TensorType
    public var typeB: TensorType
    public var shapeA: [Int]
    public var shapeB: [Int]
    /// Always true for a listed tensor except when only the dtype differs and the values decode equal.
    public var changed: Bool
    /// Why no numbers were computed (shapes differ, a dtype that does not decode to floats), or nil.
    public var note: String?
    /// The matrix the numbers are about: rows × cols in memory order (see `TensorInfo.matrixShape`).
    public var rows: Int = 0
    public var cols: Int = 0
    /// Number of elements whose decoded values differ.
    public var changedElements: Int = 0
    /// max |Δ| over all elements.
    public var maxAbs: Double?
    /// ‖Δ‖_F.
    public var frobenius: Double?
    /// ‖Δ‖_F / ‖A‖_F (nil when A is all zeros).
    public var relativeFrobenius: Double?
    public var spectrum: DiffSpectrum?
    /// σ_max of A and of B.
    public var sigmaMaxA: Double?
    public var sigmaMaxB: Double?
    /// Condition numbers σ_max/σ_min of A and B (with `--spectra`; infinite when singular).
    public var conditionA: Double?
    public var conditionB: Double?

    public init(name: String, typeA: TensorType, typeB: TensorType, shapeA: [Int], shapeB: [Int],
                changed: Bool, note: String? = nil) {
        self.name = name
        self.typeA = typeA
        self.typeB = typeB
        self.shapeA = shapeA
        self.shapeB = shapeB
        self.changed = changed
        self.note = note
    }
}

/// How the two files differ in layout, apart from tensor values.
public struct DiffLayout: Sendable {
    public struct ShapeMismatch: Sendable { public var name: String; public var a: [Int]; public var b: [Int] }
    public struct TypeMismatch: Sendable { public var name: String; public var a: TensorType; public var b: TensorType }
    /// A metadata entry (GGUF key/value or safetensors `__metadata__`) that differs.
    public struct MetadataChange: Sendable {
        public var key: String
        /// A short rendering of the value on each side; nil when the key is absent there.
        public var a: String?
        public var b: String?
    }

    public var formatA: ModelFormat
    public var formatB: ModelFormat
    public var versionA: Int?
    public var versionB: Int?
    public var compressedA: Bool
    public var compressedB: Bool
    public var tensorCountA: Int
    public var tensorCountB: Int
    public var onlyInA: [String] = []
    public var onlyInB: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []
    public var typeMismatches: [TypeMismatch] = []
    public var metadataChanges: [MetadataChange] = []
    /// The common tensors appear in a different order in the two files.
    public var orderDiffers = false
    /// GGUF `general.alignment` on each side when it differs.
    public var alignment: (a: Int, b: Int)?
    /// For a sharded checkpoint folder: its number of shards and how many are zstd-compressed
    /// (nil for a single file). Tensors are compared by name whichever shard holds them.
    public var shardsA: (count: Int, compressed: Int)?
    public var shardsB: (count: Int, compressed: Int)?

    public var isIdentical: Bool {
        formatA == formatB && versionA == versionB && onlyInA.isEmpty && onlyInB.isEmpty
            && shapeMismatches.isEmpty && typeMismatches.isEmpty && metadataChanges.isEmpty && !orderDiffers
            && alignment == nil
    }
}

/// Options of a diff.
public struct DiffOptions: Sendable {
    /// Also compute condition numbers of both sides (a full SVD of each changed tensor: slow on big ones).
    public var spectra = false
    /// How many top singular values of each Δ to report.
    public var topSingularValues = 8
    /// The largest rank the randomized probe resolves exactly on big tensors.
    public var maxRankProbe = 256
    public init() {}
}
