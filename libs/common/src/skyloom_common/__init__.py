"""The service runtime: config, logging, gRPC bootstrap and interceptors, JetStream, outbox, Postgres, lifecycle."""
