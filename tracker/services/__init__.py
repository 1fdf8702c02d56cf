"""Domain operations as plain functions. They flush, never commit, and never touch the request."""
