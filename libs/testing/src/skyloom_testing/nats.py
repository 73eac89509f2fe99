"""pytest fixtures for a real nats server (filled in by the harness work)."""
