"""Generated protobuf messages and gRPC stubs for Skyloom's contracts (never edited by hand)."""
