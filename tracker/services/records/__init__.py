"""tracker.services.records."""
