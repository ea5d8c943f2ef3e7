import PruneCLI
AdapterTool.main()
