"""Composition: tasks, workflows, promises and the graph they compile to."""
