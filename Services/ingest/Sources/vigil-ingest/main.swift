import IngestService
IngestService.main()
