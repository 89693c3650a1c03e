import EnrichmentService
EnrichmentService.main()
