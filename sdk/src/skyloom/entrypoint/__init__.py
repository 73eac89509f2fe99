"""``skyloom-execute``: the process every task attempt runs, locally, in the sandbox and in pods."""
