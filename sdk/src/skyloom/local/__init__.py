"""Local execution with the semantics of a remote run."""
