"""Skyloom SDK: typed tasks and workflows, local execution, the skyloom CLI."""
