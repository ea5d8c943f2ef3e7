import PruneCLI
DiffCommand.main()
