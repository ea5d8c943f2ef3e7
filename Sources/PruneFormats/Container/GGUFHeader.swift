/// The parsed, validated header of a GGUF file (v2 or v3, little-endian).
public struct GGUFHeader: Sendable {
    public var version: UInt32
    /// Metadata in file order.
    public var keyValues: [GGUFKeyValue]
    /// Tensors in tensor-info order, which gguf requires to be the data order. Offsets are relative
    /// to `dataStart`; shapes are ne lists (ne0 first).
    public var tensors: [TensorInfo]
    /// `general.alignment`, or 32 when absent.
    public var alignment: Int
    /// Offset of the data section in the file (end of the tensor infos, padded to `alignment`).
    public var dataStart: Int

    public subscript(key: String) -> GGUFValue? {
        keyValues.first(where: { $0.key == key })?.value
    }

    /// `general.architecture` ("llama", "gpt2", …) when present.
    public var architecture: String? { self["general.architecture"]?.stringValue }

    /// End of the last tensor's bytes, relative to `dataStart` (unpadded).
    public var dataLength: Int { tensors.last.map { $0.offset + $0.byteCount } ?? 0 }

    /// End of the last tensor's bytes padded to the alignment, relative to `dataStart`.
    public var paddedDataLength: Int { GGUFParser.pad(dataLength, alignment) }
}
