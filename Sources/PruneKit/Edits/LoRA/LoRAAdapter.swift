import Foundation
import PruneFormats

/// A PEFT LoRA adapter folder (`adapter_config.json` + `adapter_model.safetensors`), read whole.
public struct LoRAAdapter: Sendable {
    /// The adapter path as the manifest wrote it.
    public var path: String
    /// One entry per adapted module, sorted by module name.
    public var modules: [LoRAModule]
}

/// One adapted module: ΔW = scaling · B·A (Linear), or its transpose (Conv1D with fan_in_fan_out,
/// Embedding), in the Hugging Face orientation of `module`'s weight.
public struct LoRAModule: Sendable {
    /// The module path inside the model, without PEFT's `base_model.model.` prefix
    /// (e.g. `transformer.h.0.attn.c_attn`).
    public var module: String
    /// lora_A: r × in (for embeddings, lora_embedding_A: r × num_embeddings).
    public var a: EditMatrix
    /// lora_B: out × r (for embeddings, lora_embedding_B: embedding_dim × r).
    public var b: EditMatrix
    /// α/r, or α/√r with use_rslora (before the manifest's scale).
    public var scaling: Double
    /// The config's fan_in_fan_out (true: the weight is stored [in, out], ΔW = (B·A)ᵀ).
    public var fanInFanOut: Bool
    /// A `lora_embedding_A/B` pair: ΔW = (B·A)ᵀ, [num_embeddings, embedding_dim].
    public var isEmbedding: Bool
    public var rank: Int { a.shape[0] }
}

extension LoRAAdapter {
    /// Reads an adapter folder. Errors are `EditError`s naming the manifest line.
    static func load(path: String, paths: ManifestPaths, manifest: String, line: Int, files: ValueFileCache) throws -> LoRAAdapter {
        func fail(_ reason: String) -> EditError { .badAdapter(manifest: manifest, line: line, adapter: path, reason: reason) }
        let url = try paths.resolve(path, folder: true, manifest: manifest, line: line)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw EditError.missingFile(manifest: manifest, line: line, file: path, searched: paths.searchNote)
        }
        guard isDir.boolValue else { throw fail("not a folder (expected adapter_config.json + adapter_model.safetensors)") }
        let configURL = url.appendingPathComponent("adapter_config.json")
        let weightsURL = url.appendingPathComponent("adapter_model.safetensors")
        let configName = (path as NSString).appendingPathComponent("adapter_config.json")
        let weightsName = (path as NSString).appendingPathComponent("adapter_model.safetensors")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw EditError.missingFile(manifest: manifest, line: line, file: configName, searched: paths.searchNote)
        }
        try paths.check(configURL, written: configName, manifest: manifest, line: line)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let bin = FileManager.default.fileExists(atPath: url.appendingPathComponent("adapter_model.bin").path)
            if bin { throw fail("adapter_model.bin (pickle) is not supported; save the adapter with safe_serialization") }
            throw EditError.missingFile(manifest: manifest, line: line, file: weightsName, searched: paths.searchNote)
        }
        try paths.check(weightsURL, written: weightsName, manifest: manifest, line: line)

        // --- adapter_config.json
        let configBytes: [UInt8]
        do { configBytes = [UInt8](try Data(contentsOf: configURL)) } catch {
            throw fail("adapter_config.json: cannot read (\(error.localizedDescription))")
        }
        return try parse(config: configBytes, weights: weightsURL, path: path, fail: fail,
                         nonFinite: { EditError.nonFiniteNumber(manifest: manifest, line: line, place: "adapter \(path) module \($0)") })
    }

    /// Reads adapter_config.json's bytes and adapter_model.safetensors (also for prune-audit, whose
    /// errors name the adapter rather than a manifest line): `fail` makes the error of a reason,
    /// `nonFinite` the error of a module holding NaN or ±∞.
    static func parse(config configBytes: [UInt8], weights weightsURL: URL, path: String,
                      fail: (String) -> Error, nonFinite: (String) -> Error) throws -> LoRAAdapter {
        let config: JSONNode
        do { config = try JSONNodeParser.parse(configBytes, options: .lenientNumbers) } catch {
            throw fail("adapter_config.json: invalid JSON (\(error.message), line \(error.line) column \(error.column))")
        }
        guard case .object = config else { throw fail("adapter_config.json is not a JSON object") }
        if case .string(let type)? = config["peft_type"], type != "LORA" { throw fail("peft_type \(quoted(type)) is not LORA") }
        if case .bool(true)? = config["use_dora"] { throw fail("DoRA adapters (use_dora) are not a plain low-rank delta and are not supported") }
        if case .bool(true)? = config["lora_bias"] { throw fail("lora_bias adapters are not supported") }
        func number(_ key: String) throws -> Double? {
            guard let v = config[key], !isNull(v) else { return nil }
            guard let d = v.doubleValue, d.isFinite else { throw fail("adapter_config.json: \(quoted(key)) must be a finite number") }
            return d
        }
        func flag(_ key: String) throws -> Bool {
            guard let v = config[key], !isNull(v) else { return false }
            guard case .bool(let b) = v else { throw fail("adapter_config.json: \(quoted(key)) must be true or false") }
            return b
        }
        func pattern(_ key: String) throws -> [(String, Double)] {
            guard let v = config[key], !isNull(v) else { return [] }
            guard case .object(let members) = v else { throw fail("adapter_config.json: \(quoted(key)) must be an object") }
            return try members.map { m in
                guard let d = m.value.doubleValue, d.isFinite else { throw fail("adapter_config.json: \(quoted(key)).\(m.key) must be a number") }
                return (m.key, d)
            }
        }
        guard let r = try number("r"), r >= 1, r.rounded() == r else { throw fail("adapter_config.json: \"r\" must be a positive integer") }
        let alpha = try number("lora_alpha") ?? 8   // PEFT's default
        let rslora = try flag("use_rslora")
        let fanInFanOut = try flag("fan_in_fan_out")
        let rankPattern = try pattern("rank_pattern")
        let alphaPattern = try pattern("alpha_pattern")

        // --- adapter_model.safetensors
        let tensors: [String: EditMatrix]
        do {
            let read = try SafetensorsValues.read(url: weightsURL)
            if let (name, reason) = read.skipped.sorted(by: { $0.key < $1.key }).first {
                throw fail("adapter_model.safetensors: tensor \(quoted(name)) \(reason)")
            }
            tensors = read.values
        } catch let f as ValueFileFailure {
            throw fail("adapter_model.safetensors: \(f.reason)")
        }
        var pairs: [String: (a: EditMatrix?, b: EditMatrix?, embedding: Bool)] = [:]
        for (key, value) in tensors {
            guard let (module, part, embedding) = splitKey(key) else {
                throw fail("unsupported tensor \(quoted(key)) (only lora_A/lora_B and lora_embedding_A/B pairs are supported)")
            }
            var entry = pairs[module] ?? (nil, nil, embedding)
            guard entry.embedding == embedding else { throw fail("module \(quoted(module)) mixes lora_A/B and lora_embedding_A/B") }
            guard value.shape.count == 2 else { throw fail("tensor \(quoted(key)) is not 2-D") }
            if part == "A" { entry.a = value } else { entry.b = value }
            pairs[module] = entry
        }
        guard !pairs.isEmpty else { throw fail("adapter_model.safetensors holds no LoRA tensors") }

        var modules: [LoRAModule] = []
        for module in pairs.keys.sorted() {
            guard let entry = pairs[module], let a = entry.a, let b = entry.b else {
                throw fail("module \(quoted(module)) lacks its lora_\(pairs[module]?.a == nil ? "A" : "B") tensor")
            }
            let rank = a.shape[0]
            guard b.shape[1] == rank else {
                throw fail("module \(quoted(module)): lora_A is \(a.shapeText) but lora_B is \(b.shapeText) (ranks differ)")
            }
            let moduleR = patternValue(rankPattern, module: module) ?? r
            guard Double(rank) == moduleR else {
                throw fail("module \(quoted(module)): rank \(rank) of its tensors is not the configured r = \(Int(moduleR))")
            }
            let moduleAlpha = patternValue(alphaPattern, module: module) ?? alpha
            let scaling = rslora ? moduleAlpha / Double(rank).squareRoot() : moduleAlpha / Double(rank)
            if a.values.contains(where: { !$0.isFinite }) || b.values.contains(where: { !$0.isFinite }) {
                throw nonFinite(module)
            }
            modules.append(LoRAModule(module: module, a: a, b: b, scaling: scaling, fanInFanOut: fanInFanOut, isEmbedding: entry.embedding))
        }
        return LoRAAdapter(path: path, modules: modules)
    }

    private static func isNull(_ v: JSONNode) -> Bool { if case .null = v { return true }; return false }

    /// `base_model.model.X.lora_A.weight` → ("X", "A", false); `...X.lora_embedding_B` → ("X", "B", true).
    /// Also accepts the adapter-named form `X.lora_A.default.weight` some tools write.
    private static func splitKey(_ key: String) -> (String, String, Bool)? {
        var parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 2, parts[0] == "base_model", parts[1] == "model" { parts.removeFirst(2) }
        if parts.last == "weight" { parts.removeLast() }
        // Drop an adapter name after lora_A/lora_B.
        if parts.count >= 2, ["lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B"].contains(parts[parts.count - 2]) { parts.removeLast() }
        guard parts.count >= 2, let last = parts.last else { return nil }
        let module = parts.dropLast().joined(separator: ".")
        switch last {
        case "lora_A": return (module, "A", false)
        case "lora_B": return (module, "B", false)
        case "lora_embedding_A": return (module, "A", true)
        case "lora_embedding_B": return (module, "B", true)
        default: return nil
        }
    }

    /// PEFT's rank_pattern/alpha_pattern lookup: the first key that is the module name or a
    /// dot-separated suffix of it (keys are matched literally, not as regular expressions).
    private static func patternValue(_ pattern: [(String, Double)], module: String) -> Double? {
        pattern.first(where: { module == $0.0 || module.hasSuffix("." + $0.0) })?.1
    }
}
