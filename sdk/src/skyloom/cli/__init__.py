"""The ``skyloom`` command line."""
