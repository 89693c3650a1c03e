import DetectionService
DetectionService.main()
