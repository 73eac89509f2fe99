"""pytest fixtures for a real postgres server (filled in by the harness work)."""
