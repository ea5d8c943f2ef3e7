import PruneCLI
PruneCommand.main()  // replaced by the revert command
