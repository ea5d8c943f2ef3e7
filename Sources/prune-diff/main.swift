import PruneCLI
PruneCommand.main()  // replaced by the diff command
