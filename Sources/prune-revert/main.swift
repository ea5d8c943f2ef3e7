import PruneCLI
RevertTool.main()
