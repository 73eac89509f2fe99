"""The start and end nodes of a scope.

``start-node`` has no state of its own: its outputs are the scope's inputs (``Scope.inputs_uri``),
answered by ``graph.lookup_uri``; ``StartHandler`` exists so the registry covers every node kind
and says so. ``EndHandler`` resolves the scope's output bindings once every leaf is done and
writes them as the scope's outputs. Neither emits node events (admin has no use for them).
"""

from __future__ import annotations

from skyloom_propeller.bindings import BindingError, NotReady, resolve_bindings
from skyloom_propeller.context import NodeContext, Transition
from skyloom_propeller.graph import lookup_uri


class StartHandler:
    """Succeeds at once with the scope's inputs as outputs."""

    def handle(self, ctx: NodeContext) -> Transition:
        return Transition.succeeded(ctx.scope.inputs_uri)

    def abort(self, ctx: NodeContext, reason: str) -> None:
        return None

    def finalize(self, ctx: NodeContext) -> None:
        return None


class EndHandler:
    """Resolves the scope's output bindings into ``<path>/outputs.pb``."""

    def handle(self, ctx: NodeContext) -> Transition:
        rnd = ctx.rnd
        try:
            outputs = resolve_bindings(
                ctx.scope.compiled.template.outputs,
                lambda n: rnd.literals(lookup_uri(rnd, ctx.scope, n)),
            )
        except NotReady:
            return Transition.stay(ctx)
        except BindingError as err:
            return Transition.failed("OutputBindingFailed", str(err))
        uri = ctx.node_uri("outputs.pb")
        rnd.write(uri, outputs)
        return Transition.succeeded(uri)

    def abort(self, ctx: NodeContext, reason: str) -> None:
        return None

    def finalize(self, ctx: NodeContext) -> None:
        return None
