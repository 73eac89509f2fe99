"""Root pytest configuration: the real-server fixtures every suite may ask for."""

pytest_plugins = [
    "skyloom_testing.postgres",
    "skyloom_testing.nats",
    "skyloom_testing.s3",
    "skyloom_testing.procs",
]
