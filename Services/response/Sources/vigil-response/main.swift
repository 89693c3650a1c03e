import ResponseService
ResponseService.main()
