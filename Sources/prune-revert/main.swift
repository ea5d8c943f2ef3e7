import PruneCLI
RevertCommand.main()
