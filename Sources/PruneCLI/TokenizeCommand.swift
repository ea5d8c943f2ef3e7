import ArgumentParser
import Foundation
import PruneFormats
import PruneTokenizers

private let tokenizeAbstract = "Tokenize texts as the model's own tokenizer does: ids and pieces."
private let tokenizeDiscussion = """
    MODEL is a Hugging Face model folder (tokenizer.json and/or tokenizer.model, with \
    tokenizer_config.json) or a GGUF file, plain or zstd-compressed. Each TEXT is tokenized on its \
    own; '-' reads standard input, all of it, as one text. Special-token strings in a text become \
    their tokens; BOS/EOS are added as the model's settings say unless --no-special-tokens.
    """

/// Arguments of `prune tokenize` / `prune-tokenize`.
public struct TokenizeArguments: ParsableArguments {
    @Argument(help: "The model: a Hugging Face folder or a GGUF file (.gguf, .gguf.zst).")
    var model: String
    @Argument(help: "The texts to tokenize; '-' reads standard input as one text.")
    var texts: [String] = []
    @Flag(help: "Print one JSON object per text and line: {\"text\", \"ids\", \"pieces\"}.")
    var json = false
    @Flag(name: .customLong("no-special-tokens"), help: "Do not add BOS/EOS (special-token strings in the text still become their tokens).")
    var noSpecialTokens = false

    public init() {}

    public func validate() throws {
        guard !texts.isEmpty else { throw ValidationError("give at least one TEXT (or '-' for standard input)") }
        guard texts.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("'-' (standard input) can be given only once") }
    }

    func run() throws {
        try CLIOutput.running("prune-tokenize") {
            try ArgumentText.refuseInvalidUTF8(texts, what: "TEXT")
            let tokenizer = try TokenizerLoader.load(path: model)
            var inputs: [String] = []
            for t in texts {
                if t == "-" {
                    let data = FileHandle.standardInput.readDataToEndOfFile()
                    guard let s = String(data: data, encoding: .utf8) else {
                        throw CLIUsageError(message: "<stdin>: the text is not valid UTF-8")
                    }
                    inputs.append(s)
                } else {
                    inputs.append(t)
                }
            }
            var out = ""
            for text in inputs {
                let ids = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens)
                let pieces = ids.map { tokenizer.piece(for: $0) }
                if json {
                    out += "{\"text\": " + JSONText.quote(text)
                        + ", \"ids\": [" + ids.map(String.init).joined(separator: ", ") + "]"
                        + ", \"pieces\": [" + pieces.map(JSONText.quote).joined(separator: ", ") + "]}\n"
                } else {
                    out += JSONText.quote(text) + ": \(ids.count) token\(ids.count == 1 ? "" : "s")\n"
                    let width = ids.map { String($0).count }.max() ?? 1
                    for (id, piece) in zip(ids, pieces) {
                        let s = String(id)
                        out += "  " + String(repeating: " ", count: width - s.count) + s + "  " + JSONText.quote(piece)
                            + (tokenizer.isSpecial(id) ? "  (special)" : "") + "\n"
                    }
                }
            }
            CLIOutput.out(out)
        }
    }
}

/// `prune tokenize MODEL TEXT…`.
public struct TokenizeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "tokenize", abstract: tokenizeAbstract,
                                                           discussion: tokenizeDiscussion)
    @OptionGroup var options: TokenizeArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-tokenize MODEL TEXT…`.
public struct TokenizeTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-tokenize", abstract: tokenizeAbstract,
                                                           discussion: tokenizeDiscussion, version: PruneVersion.string)
    @OptionGroup var options: TokenizeArguments
    public init() {}
    public func run() throws { try options.run() }
}
