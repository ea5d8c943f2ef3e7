import Foundation
import PruneFormats

/// What the edit resolver needs to know about the model being edited: its tensors (as the container
/// reader lists them), its format, its architecture and, for Llama GGUF files, the head counts.
public struct ModelDescription: Sendable {
    public var format: ModelFormat
    public var tensors: [TensorInfo]
    /// GGUF `general.architecture`, or the detected architecture of a safetensors file;
    /// nil or an unknown name means tensors are taken as stored and only the file's own names work.
    public var architecture: String?
    /// Attention heads (`<arch>.attention.head_count`), needed to place Llama q/k deltas in GGUF files.
    public var headCount: Int?
    /// Key/value heads (`<arch>.attention.head_count_kv`); nil means the same as `headCount`.
    public var headCountKV: Int?

    public init(format: ModelFormat, tensors: [TensorInfo], architecture: String?, headCount: Int? = nil, headCountKV: Int? = nil) {
        self.format = format
        self.tensors = tensors
        self.architecture = architecture
        self.headCount = headCount
        self.headCountKV = headCountKV
    }

    /// The architecture prune knows names and layouts for, if any.
    public var knownArchitecture: KnownArchitecture? { architecture.flatMap(KnownArchitecture.init(name:)) }

    /// A GGUF model: `string`/`integer` look up metadata keys (e.g. from the GGUF reader's KV list).
    public static func gguf(tensors: [TensorInfo], string: (String) -> String?, integer: (String) -> Int?) -> ModelDescription {
        let arch = string("general.architecture")
        return ModelDescription(format: .gguf, tensors: tensors, architecture: arch,
                                headCount: arch.flatMap { integer("\($0).attention.head_count") },
                                headCountKV: arch.flatMap { integer("\($0).attention.head_count_kv") })
    }

    /// A safetensors model. The architecture comes from `config.json` beside the model when there is
    /// one (its `model_type`), otherwise from the tensor names. `modelPath` may be nil or "-" (stdin).
    public static func safetensors(tensors: [TensorInfo], modelPath: String?) -> ModelDescription {
        var config: [UInt8]?
        if let path = modelPath, path != "-" {
            let url = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("config.json")
            config = (try? Data(contentsOf: url)).map { [UInt8]($0) }
        }
        return safetensors(tensors: tensors, configJSON: config)
    }

    /// A safetensors model with the bytes of its config.json (if any).
    public static func safetensors(tensors: [TensorInfo], configJSON: [UInt8]?) -> ModelDescription {
        if let bytes = configJSON, let config = try? JSONNodeParser.parse(bytes, options: .lenientNumbers), case .string(let type)? = config["model_type"] {
            func int(_ keys: String...) -> Int? {
                for k in keys { if let d = config[k]?.doubleValue, d >= 1, d <= 1e6, d.rounded() == d { return Int(d) } }
                return nil
            }
            return ModelDescription(format: .safetensors, tensors: tensors, architecture: type,
                                    headCount: int("num_attention_heads", "n_head"),
                                    headCountKV: int("num_key_value_heads"))
        }
        return ModelDescription(format: .safetensors, tensors: tensors, architecture: detectArchitecture(tensorNames: tensors.map(\.name))?.rawValue)
    }

    /// The family of a checkpoint without config.json, from its Hugging Face tensor names (see
    /// `TensorNaming.recognize`); nil where the names fit no family or several that differ.
    public static func detectArchitecture(tensorNames: [String]) -> KnownArchitecture? {
        TensorNaming.recognize(checkpoint: tensorNames)
    }
}

extension ModelDescription {
    /// The description of an opened model file: GGUF architecture and head counts from its KVs,
    /// safetensors architecture from config.json beside it (or from its tensor names).
    public init(file: ModelFile) {
        switch file.header {
        case .gguf(let g):
            self = .gguf(tensors: g.tensors, string: { g[$0]?.stringValue },
                         integer: { g[$0]?.integerValue.flatMap { Int(exactly: $0) } })
        case .safetensors(let s):
            self = .safetensors(tensors: s.tensors, modelPath: file.path)
        }
    }
}
