import PruneCLI
TokenizeTool.main()
