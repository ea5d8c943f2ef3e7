import PruneCLI
ApplyTool.main()
