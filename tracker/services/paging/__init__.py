"""tracker.services.paging."""
