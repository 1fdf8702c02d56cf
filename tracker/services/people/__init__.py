"""tracker.services.people."""
