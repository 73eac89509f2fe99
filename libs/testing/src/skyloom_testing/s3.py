"""pytest fixtures for a real s3 server (filled in by the harness work)."""
