"""Skyloom admin: the control-plane gRPC API."""
