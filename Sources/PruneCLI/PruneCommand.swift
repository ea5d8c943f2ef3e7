import ArgumentParser
import PruneKit

/// `prune`: one entry point with every tool as a subcommand.
public struct PruneCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Make knowledge edits to LLM weights into reproducible, restrained artifacts.",
        version: PruneVersion.string,
        subcommands: [InspectCommand.self, ApplyCommand.self, RevertCommand.self]
    )
    public init() {}
}
