"""The Skyloom service runtime.

config, logs, tracing, metrics, errors, rpc (gRPC bootstrap and interceptors), lifecycle,
runtime; db, jetstream and outbox live in their own subpackages.
"""
