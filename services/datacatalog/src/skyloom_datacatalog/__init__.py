"""Skyloom datacatalog: memoization store with reservations."""
