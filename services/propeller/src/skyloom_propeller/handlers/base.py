"""The node handler Protocol.

Handlers are called once per round for every started, non-terminal node, so they must be
idempotent (a repeated call with the same state and view emits the same commands) and must not
block: all I/O is requested as commands and observed through the view on a later round. They are
synchronous because they do no I/O at all; the async shell runs them between its awaits.

Two error channels (STYLE.md): a user or spec failure is returned as data
(``Transition.failed(...)``); a fault of the engine itself (a closure missing a task it
references) is raised, and the shell retries the round with backoff.
"""

from __future__ import annotations

from typing import Protocol

from skyloom_propeller.context import NodeContext, Transition


class NodeHandler(Protocol):
    def handle(self, ctx: NodeContext) -> Transition:
        """Advance the node; called at least once per round while it is not terminal."""
        ...

    def abort(self, ctx: NodeContext, reason: str) -> None:
        """Stop whatever the node runs (attempts, children); idempotent."""
        ...

    def finalize(self, ctx: NodeContext) -> None:
        """Release what the node holds once it is terminal (e.g. a cache reservation);
        called once per terminal transition, idempotent."""
        ...
