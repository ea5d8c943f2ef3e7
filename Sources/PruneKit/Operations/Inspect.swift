import PruneFormats
/// `prune-inspect`: read a model file (path, `-` for stdin, plain or zstd) to its last byte,
/// validating it, and describe it.
public enum Inspect {
    public static func run(path: String) throws -> InspectReport {
        let summary = try ModelRewriter(input: path, output: .discard, options: .uncompressed).run()
        let header = summary.header
        var metadata: [JSONNodeMember] = []
        var alignment: Int? = nil
        switch header {
        case .safetensors(let h):
            metadata = (h.metadata ?? []).map { JSONNodeMember(key: $0.key, value: .string($0.value)) }
        case .gguf(let h):
            metadata = h.keyValues.map { JSONNodeMember(key: $0.key, value: $0.value.json(arrayLimit: InspectReport.arrayLimit)) }
            alignment = h.alignment
        }
        return InspectReport(
            path: path == "-" ? "<stdin>" : path, format: header.format, version: header.version,
            architecture: header.architecture, alignment: alignment, metadata: metadata,
            tensors: header.tensors, dataStart: header.dataStart, fileBytes: summary.inputBytes,
            sha256: summary.inputSHA256, compressed: summary.inputWasCompressed)
    }
}
