import PruneCLI
PruneCommand.main()  // replaced by the apply command
