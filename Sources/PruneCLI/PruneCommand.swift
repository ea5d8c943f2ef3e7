import ArgumentParser
import PruneKit
import PruneFormats

/// `prune`: one entry point with every tool as a subcommand.
public struct PruneCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Make knowledge edits to LLM weights into reproducible, restrained artifacts.",
        version: PruneVersion.string,
        subcommands: [ApplyCommand.self, RevertCommand.self, DiffCommand.self, AuditCommand.self, InspectCommand.self]
    )
    public init() {}
}
