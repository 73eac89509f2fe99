"""Hello, world: one task, one workflow.

skyloom run examples/hello.py:hello_wf --name Ada
"""

from skyloom import task, workflow


@task
def say_hello(name: str) -> str:
    """Greet someone.

    Args:
        name: who to greet
    """
    return f"Hello, {name}!"


@workflow
def hello_wf(name: str = "world") -> str:
    """Say hello.

    Args:
        name: who to greet
    """
    return say_hello(name=name)
