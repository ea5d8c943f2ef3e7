import PruneTokenizers

/// What the fact engine needs of a tokenizer: the model's own ids for a text (its BOS included
/// where the model adds one) and back.
public protocol FactTokenizer: Sendable {
    func encode(_ text: String) -> [Int32]
    func decode(_ ids: [Int32]) -> String
}

/// The runtime's tokenizer as the fact engine uses it (the model's own special-token handling).
public struct RuntimeTokenizer: FactTokenizer {
    public let tokenizer: Tokenizer
    public init(_ t: Tokenizer) { tokenizer = t }
    public func encode(_ text: String) -> [Int32] { tokenizer.encode(text) }
    public func decode(_ ids: [Int32]) -> String { tokenizer.decode(ids) }
}
