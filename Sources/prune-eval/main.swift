import PruneCLI
EvalTool.main()
