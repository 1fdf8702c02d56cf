"""tracker.services.messaging."""
