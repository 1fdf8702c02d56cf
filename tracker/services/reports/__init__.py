"""tracker.services.reports.dashboard."""
