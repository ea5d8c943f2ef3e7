import PruneCLI
PruneCommand.main()
