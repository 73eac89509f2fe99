"""Sans-I/O domain logic shared by the SDK and the services: types, compiler, cache keys, phase rules, blob store."""
