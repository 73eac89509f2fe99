"""Skyloom propeller: the execution engine."""
