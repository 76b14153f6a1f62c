"""Scheduled and queued jobs (RQ): re-query, expiry, reconciliation."""
