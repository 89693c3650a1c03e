import BrokerService
BrokerService.main()
