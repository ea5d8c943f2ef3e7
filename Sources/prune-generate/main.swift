import PruneCLI
GenerateTool.main()
