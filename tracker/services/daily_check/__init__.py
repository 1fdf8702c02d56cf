"""The daily check (docs/architecture.md#beds): who is in each bed, and each day's answer for them."""
