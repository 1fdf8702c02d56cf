"""tracker.services.setup."""
