import Foundation

/// Why a tensor could not be decoded to f32 or encoded back.
///
/// The codec does not know the file or tensor name: callers prefix the message with
/// `"<path>: "` and add the tensor name (see `TensorCodecError.describing(in:tensor:)`).
public enum TensorCodecError: LocalizedError, Equatable, Sendable {
    /// The type is not a float type or its (de)quantization is not implemented.
    case unsupportedType(TensorType, operation: Operation)
    /// The element count is negative or not a whole number of blocks (or bytes, for packed types).
    case countNotMultipleOfBlock(TensorType, count: Int, blockSize: Int)
    /// The buffer does not hold exactly the bytes `count` elements need.
    case byteCountMismatch(TensorType, count: Int, expected: Int, actual: Int)
    /// The byte size of `count` elements overflows `Int`.
    case sizeOverflow(TensorType, count: Int)
    /// A NaN or infinity was given to a quantized type, which cannot represent it.
    case nonFiniteValue(TensorType, index: Int)
    /// Values so large that the block's f16 scale overflows (the block starting at `index`).
    case valueOutOfRange(TensorType, index: Int)

    public enum Operation: String, Sendable {
        case decode, encode
    }

    public var errorDescription: String? {
        switch self {
        case .unsupportedType(let t, let op):
            return "cannot \(op.rawValue) tensor type \(t): not a supported float or quantized type"
        case .countNotMultipleOfBlock(let t, let count, let block):
            return "\(count) values are not a whole number of \(t) blocks of \(block)"
        case .byteCountMismatch(let t, let count, let expected, let actual):
            return "\(actual) bytes do not hold \(count) \(t) values (expected \(expected) bytes)"
        case .sizeOverflow(let t, let count):
            return "the byte size of \(count) \(t) values overflows"
        case .nonFiniteValue(let t, let index):
            return "\(t) cannot store a NaN or infinite value (element \(index))"
        case .valueOutOfRange(let t, let index):
            return "values too large for \(t): the block scale overflows f16 (block at element \(index))"
        }
    }

    /// The one-line message with the file and the tensor named, per the project's convention:
    /// `"<path>: <what is wrong> (tensor <name>)"`.
    public func describing(in path: String, tensor: String) -> String {
        "\(path): \(errorDescription ?? "tensor codec error") (tensor \(tensor))"
    }
}
