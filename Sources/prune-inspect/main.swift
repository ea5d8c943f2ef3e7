import PruneCLI
InspectTool.main()
