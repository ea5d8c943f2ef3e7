import PruneCLI
AuditTool.main()
