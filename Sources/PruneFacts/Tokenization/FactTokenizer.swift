/// What the fact engine needs of a tokenizer: the model's own ids for a text (its BOS included
/// where the model adds one) and back.
public protocol FactTokenizer: Sendable {
    func encode(_ text: String) -> [Int32]
    func decode(_ ids: [Int32]) -> String
}
