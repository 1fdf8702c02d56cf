"""tracker.services.reports.figures."""
