import AgentCore

Agent.main()
