import PruneCLI
StatsCommand.main()
