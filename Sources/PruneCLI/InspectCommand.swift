import ArgumentParser
import PruneKit
import PruneFormats

/// Arguments of `prune inspect` / `prune-inspect`.
public struct InspectOptions: ParsableArguments {
    @Argument(help: "Model file: .safetensors or .gguf, plain or zstd-compressed; '-' reads stdin; or a sharded checkpoint folder (model.safetensors.index.json + shards).")
    public var file: String

    @Flag(name: .long, help: "Print machine-readable JSON.")
    public var json = false

    public init() {}

    func run() throws {
        try CLIOutput.running("prune-inspect") {
            let report = try Inspect.run(path: file)
            CLIOutput.out(json ? report.json.serialized(pretty: true) + "\n" : report.text)
        }
    }
}

private let inspectAbstract = "Describe a model file or checkpoint folder: format, version, metadata and tensor table (validating every byte)."

/// `prune inspect FILE [--json]`.
public struct InspectCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "inspect", abstract: inspectAbstract)
    @OptionGroup public var options: InspectOptions
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-inspect FILE [--json]`.
public struct InspectTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-inspect", abstract: inspectAbstract,
                                                           version: PruneVersion.string)
    @OptionGroup public var options: InspectOptions
    public init() {}
    public func run() throws { try options.run() }
}
