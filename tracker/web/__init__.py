"""Cross-cutting web concerns: security headers, error pages, health endpoints."""
