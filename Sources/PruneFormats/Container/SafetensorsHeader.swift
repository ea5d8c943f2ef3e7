/// One `__metadata__` entry of a safetensors header.
public struct MetadataEntry: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// The parsed, validated header of a safetensors file.
public struct SafetensorsHeader: Sendable {
    /// N, the length of the JSON header (bytes 8..<8+N).
    public var headerLength: Int
    /// `__metadata__` in header order; nil when the header has none.
    public var metadata: [MetadataEntry]?
    /// Tensors in data order (ascending offsets); offsets are relative to `dataStart`.
    public var tensors: [TensorInfo]
    /// Tensor names in the order the JSON header lists them.
    public var headerOrder: [String]

    /// Offset of the data section in the file.
    public var dataStart: Int { 8 + headerLength }
    /// Bytes of the data section (= end of the last tensor).
    public var dataLength: Int { tensors.last.map { $0.offset + $0.byteCount } ?? 0 }
    /// Expected total file size.
    public var fileLength: Int { dataStart + dataLength }
}
