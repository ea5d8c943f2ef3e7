import PruneFormats
/// The JSON document stored in `__metadata__["prune"]` of a sidecar: every scalar and string of the
/// run, and the names of the tensors that hold the arrays. Field names are a contract
/// (prune-sidecar(5)); they are snake_case and written with sorted keys. The model's parameters and
/// a folder's shards and files are stored as they are (`Sidecar.Parameters`, `Sidecar.Checkpoint.Shard`,
/// `Sidecar.Checkpoint.File` are Codable in exactly this shape).
struct SidecarDocument: Codable, Equatable {
    var formatVersion: Int
    var toolVersion: String
    var model: ModelDoc
    var parameters: Sidecar.Parameters
    var manifests: [ManifestDoc]
    var edits: [EditDoc]
    var tensors: [TensorDoc]
    /// SHA-256 of every tensor of the container, by name.
    var parts: [String: String]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", toolVersion = "tool_version"
        case model, parameters, manifests, edits, tensors, parts
    }

    struct ModelDoc: Codable, Equatable {
        var format: String
        var baseSHA256: String
        var outputSHA256: String
        var checkpoint: CheckpointDoc? = nil
        enum CodingKeys: String, CodingKey {
            case format, baseSHA256 = "base_sha256", outputSHA256 = "output_sha256", checkpoint
        }
    }

    struct CheckpointDoc: Codable, Equatable {
        var index: String
        /// The U8 part holding the base index.
        var baseIndex: String
        var baseIndexSHA256: String
        var outputIndexSHA256: String
        var shards: [Sidecar.Checkpoint.Shard]
        var files: [Sidecar.Checkpoint.File]
        enum CodingKeys: String, CodingKey {
            case index, baseIndex = "base_index", baseIndexSHA256 = "base_index_sha256"
            case outputIndexSHA256 = "output_index_sha256", shards, files
        }
    }

    struct ManifestDoc: Codable, Equatable {
        var name: String
        var sha256: String
        var bytes: Int
        var data: String
        /// Format 2: "verbatim" (data holds the bytes, as in format 1) or "template" (data holds the
        /// zstd-compressed literal runs, `pieces` says where the base64 of which part goes).
        var encoding: String? = nil
        var literalBytes: Int? = nil
        var pieces: [PieceDoc]? = nil

        enum CodingKeys: String, CodingKey {
            case name, sha256, bytes, data, encoding
            case literalBytes = "literal_bytes", pieces
        }
    }

    /// One piece of a template manifest: `{"literal": n}` or `{"base64": part}`.
    struct PieceDoc: Codable, Equatable {
        var literal: Int?
        var base64: String?
    }

    struct EditDoc: Codable, Equatable {
        var manifest: Int
        var id: String
        var kind: String
        var line: Int
        var tensors: [String]
        /// Name of the u8 tensor holding the fact record (fact edits only; absent in older sidecars).
        var facts: String?
    }

    struct TermDoc: Codable, Equatable {
        var edit: Int
        var kind: String          // "lowrank" | "dense"
        var rank: Int?
        var u: String?
        var v: String?
        var delta: String?
    }

    struct FactorsDoc: Codable, Equatable {
        var rank: Int
        var u: String
        var v: String
    }

    struct ResidualDoc: Codable, Equatable {
        var codec: String         // "zstd-xor"
        var length: Int
        var data: String
    }

    struct TensorDoc: Codable, Equatable {
        var name: String
        var type: String
        var shape: [Int]
        var rows: Int
        var cols: Int
        var baseSHA256: String
        var outputSHA256: String
        var sigmaMax: Double
        var sigmaBefore: Double
        var sigmaAfter: Double
        var componentsRestrained: Int
        var terms: [TermDoc]
        var restrained: FactorsDoc
        var spectrumBefore: String
        var spectrumAfter: String
        var kappa: String?
        var residual: ResidualDoc
        var forwardResidual: ResidualDoc?

        enum CodingKeys: String, CodingKey {
            case name, type, shape, rows, cols
            case baseSHA256 = "base_sha256", outputSHA256 = "output_sha256"
            case sigmaMax = "sigma_max", sigmaBefore = "sigma_before", sigmaAfter = "sigma_after"
            case componentsRestrained = "components_restrained"
            case terms, restrained
            case spectrumBefore = "spectrum_before", spectrumAfter = "spectrum_after"
            case kappa, residual
            case forwardResidual = "forward_residual"
        }
    }
}
