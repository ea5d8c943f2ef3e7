import PruneCLI
PruneCommand.main()  // replaced by the audit command
