"""tracker.services.concerns.intake."""
