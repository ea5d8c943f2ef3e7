import PruneCLI
AuditCommand.main()
