import PruneCLI
ApplyCommand.main()
