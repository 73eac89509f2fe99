"""Skyloom scheduler: cron, fixed-rate and event triggers."""
