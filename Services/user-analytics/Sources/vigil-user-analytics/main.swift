import UserAnalyticsService
UserAnalyticsService.main()
