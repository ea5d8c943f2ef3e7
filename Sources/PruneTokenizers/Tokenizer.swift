/// A loaded tokenizer: text to ids equal to the model's own tokenizer (Hugging Face `tokenizers`
/// for byte-level BPE, `sentencepiece` for SentencePiece models, llama.cpp for GGUF files), and
/// back. Immutable and thread-safe: one instance may serve any number of threads.
public final class Tokenizer: Sendable {
    /// Which library's behaviour this tokenizer reproduces.
    public enum Family: String, Sendable {
        /// Hugging Face tokenizer.json, merge-list BPE (byte-level or SentencePiece-style).
        case huggingFaceBPE = "tokenizer.json BPE"
        /// tokenizer.model, SentencePiece BPE.
        case sentencePieceBPE = "SentencePiece BPE"
        /// GGUF `tokenizer.ggml.model = gpt2`.
        case ggufGPT2 = "GGUF gpt2 BPE"
        /// GGUF `tokenizer.ggml.model = llama`.
        case ggufLlama = "GGUF llama SentencePiece"
    }

    /// The file the tokenizer was read from.
    public let source: String
    public let family: Family
    /// Number of ids (the largest id + 1).
    public let vocabularySize: Int
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let unknownTokenID: Int32?
    /// `encode(_, addSpecialTokens: true)` puts BOS in front / EOS at the end (the model's settings).
    public let addsBOS: Bool
    public let addsEOS: Bool
    /// Tokens that end a generation: EOS and the end-of-turn tokens of the vocabulary.
    public let endOfGenerationIDs: Set<Int32>

    let vocabulary: Vocabulary
    let pipeline: EncodingPipeline
    let decoder: TokenDecoder

    init(source: String, family: Family, vocabulary: Vocabulary, pipeline: EncodingPipeline, decoder: TokenDecoder,
         bos: Int32?, eos: Int32?, unknown: Int32?, addsBOS: Bool, addsEOS: Bool, endOfGeneration: Set<Int32>) {
        self.source = source
        self.family = family
        self.vocabulary = vocabulary
        self.pipeline = pipeline
        self.decoder = decoder
        vocabularySize = vocabulary.count
        bosTokenID = bos
        eosTokenID = eos
        unknownTokenID = unknown
        self.addsBOS = addsBOS
        self.addsEOS = addsEOS
        endOfGenerationIDs = endOfGeneration
    }

    /// The ids of `text`. Special-token strings in the text become their tokens. With
    /// `addSpecialTokens`, BOS / EOS (or the template's tokens) are added as the model's settings say.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        pipeline.encode(text, addSpecialTokens: addSpecialTokens)
    }

    /// The text of `ids`, as the model's library decodes it. Special tokens give their text unless
    /// `skipSpecialTokens`; ids outside the vocabulary are ignored.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        decoder.decode(ids, vocabulary, skipSpecial: skipSpecialTokens)
    }

    /// The raw vocabulary piece of `id` ("" outside the vocabulary).
    public func piece(for id: Int32) -> String {
        id >= 0 && Int(id) < vocabulary.count ? vocabulary.pieces[Int(id)] : ""
    }

    /// The id of a raw vocabulary piece.
    public func id(forPiece piece: String) -> Int32? { vocabulary.idOfPiece[piece] }

    /// The kind of `id`; nil outside the vocabulary.
    public func kind(of id: Int32) -> TokenKind? {
        id >= 0 && Int(id) < vocabulary.count ? vocabulary.kinds[Int(id)] : nil
    }

    /// Special tokens: control and unknown tokens, and Hugging Face added tokens marked special.
    public func isSpecial(_ id: Int32) -> Bool { vocabulary.isSpecial(id) }

    /// Control tokens (BOS, EOS, end-of-turn, …).
    public func isControl(_ id: Int32) -> Bool { kind(of: id) == .control }
}
