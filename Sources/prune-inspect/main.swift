import PruneCLI
PruneCommand.main()  // replaced by the inspect command
