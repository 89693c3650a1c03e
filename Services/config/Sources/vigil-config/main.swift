import ConfigService

ConfigService.main()
