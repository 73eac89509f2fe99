"""Test harness: real Postgres, NATS JetStream and S3-compatible servers on free ports."""
