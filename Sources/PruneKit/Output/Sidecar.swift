import PruneFormats
/// Everything prune-apply records about one run: enough to replay it bit for bit on the base model,
/// continue it with more edits, revert it exactly, and audit it. Stored as a safetensors file
/// (see prune-sidecar(5)); `Sidecar.read(path:)` opens one, `SidecarWriter` writes one.
public struct Sidecar: Sendable, Equatable {
    /// The value of `__metadata__["format"]`.
    public static let formatName = "prune-sidecar"
    /// The current `format_version` (2: lost-bits / xor-blocks residuals, manifest templates,
    /// checkpoint folders); readers accept 1 and 2 and refuse larger values.
    public static let formatVersion = 2

    public var formatVersion: Int = Sidecar.formatVersion
    /// The prune version that wrote the file.
    public var toolVersion: String = PruneVersion.string
    public var model: Model
    public var parameters: Parameters
    /// The manifests of the chain in the order they were applied (one for a plain run; a
    /// continuation appends its manifest to those of the sidecar it continued).
    public var manifests: [Manifest]
    /// Every edit of every manifest, in order.
    public var edits: [Edit]
    /// One record per edited tensor, in file order of the model.
    public var tensors: [Tensor]

    public init(model: Model, parameters: Parameters, manifests: [Manifest], edits: [Edit], tensors: [Tensor]) {
        self.model = model
        self.parameters = parameters
        self.manifests = manifests
        self.edits = edits
        self.tensors = tensors
    }

    public struct Model: Sendable, Equatable {
        public var format: ModelFormat
        /// SHA-256 (hex) of the base model file, decompressed; for a checkpoint folder, its digest
        /// (`Checkpoint.digest`).
        public var baseSHA256: String
        /// SHA-256 (hex) of the edited model file, decompressed (folder: its digest).
        public var outputSHA256: String
        /// Present when the model is a sharded checkpoint folder (format 2).
        public var checkpoint: Checkpoint? = nil
        public init(format: ModelFormat, baseSHA256: String, outputSHA256: String, checkpoint: Checkpoint? = nil) {
            self.format = format
            self.baseSHA256 = baseSHA256
            self.outputSHA256 = outputSHA256
            self.checkpoint = checkpoint
        }
    }

    /// A sharded Hugging Face checkpoint folder: its index, every shard with its hashes before and
    /// after, and the folder's other files.
    public struct Checkpoint: Sendable, Equatable {
        /// The index file's name (`model.safetensors.index.json`).
        public var index: String
        /// The base folder's index, byte for byte (revert writes it back).
        public var baseIndex: [UInt8]
        /// SHA-256 of the index apply wrote (the base index itself when no shard is compressed).
        public var outputIndexSHA256: String
        /// Every shard, in name order.
        public var shards: [Shard]
        /// The other files of the folder (config, tokenizer), copied unchanged.
        public var files: [File]

        /// Codable as the sidecar document stores it (prune-sidecar(5)): a new field is a format change.
        public struct Shard: Sendable, Equatable, Codable {
            /// The shard's name in the index.
            public var name: String
            /// SHA-256 of its bytes (decompressed) in the base folder and in the edited folder.
            public var baseSHA256: String
            public var outputSHA256: String
            /// Whether the edited folder stores it zstd-compressed, as `name.zst`.
            public var compressed: Bool
            public init(name: String, baseSHA256: String, outputSHA256: String, compressed: Bool) {
                self.name = name
                self.baseSHA256 = baseSHA256
                self.outputSHA256 = outputSHA256
                self.compressed = compressed
            }
            enum CodingKeys: String, CodingKey {
                case name, baseSHA256 = "base_sha256", outputSHA256 = "output_sha256", compressed
            }
        }

        /// Codable as the sidecar document stores it.
        public struct File: Sendable, Equatable, Codable {
            /// Path relative to the folder.
            public var name: String
            public var sha256: String
            public var bytes: Int
            public init(name: String, sha256: String, bytes: Int) {
                self.name = name
                self.sha256 = sha256
                self.bytes = bytes
            }
        }

        public init(index: String, baseIndex: [UInt8], outputIndexSHA256: String, shards: [Shard], files: [File]) {
            self.index = index
            self.baseIndex = baseIndex
            self.outputIndexSHA256 = outputIndexSHA256
            self.shards = shards
            self.files = files
        }

        /// The digest of a folder's shards: SHA-256 of the lines `<sha256>  <shard name>\n`, one per
        /// shard in name order, each hash taken over the shard's decompressed bytes (the output of
        /// `sha256sum model-*.safetensors` in the C locale). The index and the other files are not
        /// part of it: they are recorded on their own.
        public static func digest(_ shards: [(name: String, sha256: String)]) -> String {
            let text = shards.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
                .map { "\($0.sha256)  \($0.name)\n" }.joined()
            return SHA256Hasher.hex(Array(text.utf8))
        }
    }

    /// Codable as the sidecar document stores it (prune-sidecar(5)): a new field is a format change.
    public struct Parameters: Sendable, Equatable, Codable {
        /// "log", "linear" or "none".
        public var restraint: String
        /// The logarithm base α of the log restraint.
        public var alpha: Double
        /// "end" or "each".
        public var schedule: String
        /// Whether κ values were computed.
        public var kappa: Bool
        public init(restraint: String, alpha: Double, schedule: String, kappa: Bool) {
            self.restraint = restraint
            self.alpha = alpha
            self.schedule = schedule
            self.kappa = kappa
        }
    }

    public struct Manifest: Sendable, Equatable {
        /// The file name the manifest had (no folder).
        public var name: String
        /// The manifest, byte for byte.
        public var bytes: [UInt8]
        /// SHA-256 (hex) of `bytes`.
        public var sha256: String
        public init(name: String, bytes: [UInt8], sha256: String) {
            self.name = name
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public struct Edit: Sendable, Equatable {
        /// Index into `manifests`.
        public var manifest: Int
        public var id: String
        public var kind: String
        /// 1-based line of the manifest.
        public var line: Int
        /// Names of the model tensors it changes.
        public var tensors: [String]
        /// For an edit computed from facts (`rome`, `memit`, `alphaedit`): what the fact engine
        /// recorded — requests, hyperparameters, templates, statistics identity, per-request results —
        /// as UTF-8 JSON (prune-sidecar(5)). Its deltas are the edit's terms; replay never needs this.
        public var facts: [UInt8]?
        public init(manifest: Int, id: String, kind: String, line: Int, tensors: [String], facts: [UInt8]? = nil) {
            self.manifest = manifest
            self.id = id
            self.kind = kind
            self.line = line
            self.tensors = tensors
            self.facts = facts
        }
    }

    /// One raw (unrestrained) delta an edit contributed to a tensor, in the stored orientation
    /// (rows × cols, cols innermost), scale folded in.
    public struct Term: Sendable, Equatable {
        /// Index into `edits`.
        public var edit: Int
        public var delta: Delta
        public init(edit: Int, delta: Delta) {
            self.edit = edit
            self.delta = delta
        }
    }

    public enum Delta: Sendable, Equatable {
        /// ΔW = U Vᵀ with U rows × rank and V cols × rank, both row-major.
        case lowRank(u: [Float], v: [Float], rank: Int)
        /// ΔW as a rows × cols row-major matrix.
        case dense([Float])
    }

    /// The restrained delta U · Vᵀ as it was added to W₀ (f32, singular values folded into U):
    /// U rows × rank, V cols × rank, row-major.
    public struct Factors: Sendable, Equatable {
        public var rank: Int
        public var u: [Float]
        public var v: [Float]
        public init(rank: Int, u: [Float], v: [Float]) {
            self.rank = rank
            self.u = u
            self.v = v
        }
    }

    public struct Tensor: Sendable, Equatable {
        public var name: String
        /// The stored type as the container spells it ("F32", "BF16", "Q4_K", …).
        public var type: String
        /// The shape as the container stores it (GGUF: ne order).
        public var shape: [Int]
        /// The matrix view the deltas live in (TensorInfo.matrixShape).
        public var rows: Int
        public var cols: Int
        /// SHA-256 (hex) of the tensor's bytes in the base model and in the output.
        public var baseSHA256: String
        public var outputSHA256: String
        /// The accumulated raw delta, one term per edit contribution, in edit order.
        public var terms: [Term]
        /// σ_max(W₀), the restraint threshold.
        public var sigmaMax: Double
        /// The delta that was added to W₀.
        public var restrained: Factors
        /// Singular values of the accumulated raw delta and of the restrained delta, descending.
        public var spectrumBefore: [Double]
        public var spectrumAfter: [Double]
        /// How many singular values were at or above σ_max and were replaced.
        public var componentsRestrained: Int
        /// κ values, when computed (`parameters.kappa`).
        public var kappa: [Double]?
        /// What revert needs besides the restrained delta to give the base bytes back; see Residual.
        public var residual: [UInt8]
        /// The residual's codec (`Residual.codecs`).
        public var residualCodec: String
        /// Length of the uncompressed residual (= the tensor's byte count).
        public var residualLength: Int
        /// Only in sidecars of edits made by another tool (`prune-diff --sidecar`): what turns
        /// encode(decode(base) + restrained delta) into the output bytes, in the `residualCodec`
        /// format. nil when replay is exact without it (every sidecar prune-apply writes).
        public var forwardResidual: [UInt8]? = nil

        public init(name: String, type: String, shape: [Int], rows: Int, cols: Int,
                    baseSHA256: String, outputSHA256: String, terms: [Term], sigmaMax: Double,
                    restrained: Factors, spectrumBefore: [Double], spectrumAfter: [Double],
                    componentsRestrained: Int, kappa: [Double]?, residual: [UInt8], residualCodec: String,
                    residualLength: Int) {
            self.name = name
            self.type = type
            self.shape = shape
            self.rows = rows
            self.cols = cols
            self.baseSHA256 = baseSHA256
            self.outputSHA256 = outputSHA256
            self.terms = terms
            self.sigmaMax = sigmaMax
            self.restrained = restrained
            self.spectrumBefore = spectrumBefore
            self.spectrumAfter = spectrumAfter
            self.componentsRestrained = componentsRestrained
            self.kappa = kappa
            self.residual = residual
            self.residualCodec = residualCodec
            self.residualLength = residualLength
        }
    }
}
