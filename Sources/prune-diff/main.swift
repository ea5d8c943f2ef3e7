import PruneCLI
DiffTool.main()
