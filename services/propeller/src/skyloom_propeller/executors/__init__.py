"""Executor backends: where task attempts run (``process`` so far; ``warm`` and ``kubernetes``
follow the same ``Executor`` Protocol)."""
