import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

/// `prune`: one entry point with every tool as a subcommand.
public struct PruneCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Make knowledge edits to LLM weights into reproducible, restrained artifacts.",
        version: PruneVersion.string,
        subcommands: [ApplyCommand.self, RevertCommand.self, DiffCommand.self, AuditCommand.self, AdapterCommand.self, InspectCommand.self,
                      TokenizeCommand.self, GenerateCommand.self, StatsCommand.self, EvalCommand.self, CPUCommand.self]
    )
    public init() {}

    /// `prune` without a subcommand is bad usage: the help goes to standard error, exit status 64.
    public func run() throws {
        FileHandle.standardError.write(Data((Self.helpMessage() + "\n").utf8))
        throw ExitCode(64)
    }
}
