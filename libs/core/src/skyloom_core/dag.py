"""Pure DAG questions the engine asks of a compiled workflow, given its nodes' phases.

``phases`` maps node id to ``NodeExecution.Phase``; a node absent (or UNSPECIFIED) has not
started. ``start-node`` counts as SUCCEEDED unless given. All answers follow the compiled
topological order, so the engine acts deterministically.
"""

from __future__ import annotations

from collections.abc import Mapping

from skyloom_core.compiler._context import START_NODE
from skyloom_idl.core import compiler_pb2, execution_pb2

_P = execution_pb2.NodeExecution.Phase
DONE_OK = frozenset({_P.PHASE_SUCCEEDED, _P.PHASE_RECOVERED})
DONE_BAD = frozenset({_P.PHASE_FAILED, _P.PHASE_ABORTED, _P.PHASE_TIMED_OUT})


def _phase(phases: Mapping[str, int], node_id: str) -> int:
    if node_id == START_NODE and node_id not in phases:
        return _P.PHASE_SUCCEEDED
    return phases.get(node_id, _P.PHASE_UNSPECIFIED)


def _not_started(compiled: compiler_pb2.CompiledWorkflow, phases: Mapping[str, int]) -> list[str]:
    return [
        n
        for n in compiled.topological_order
        if n != START_NODE and _phase(phases, n) == _P.PHASE_UNSPECIFIED
    ]


def upstream_of(compiled: compiler_pb2.CompiledWorkflow, node_id: str) -> list[str]:
    """The nodes ``node_id`` directly depends on (``start-node`` for roots)."""
    return (
        list(compiled.connections.upstream[node_id].ids)
        if node_id in compiled.connections.upstream
        else []
    )


def downstream_of(compiled: compiler_pb2.CompiledWorkflow, node_id: str) -> list[str]:
    """The nodes that directly depend on ``node_id``."""
    down = compiled.connections.downstream
    return list(down[node_id].ids) if node_id in down else []


def ready_nodes(compiled: compiler_pb2.CompiledWorkflow, phases: Mapping[str, int]) -> list[str]:
    """Nodes not started whose upstream nodes all SUCCEEDED (or were RECOVERED).
    ``end-node`` is among them once everything it waits for is done."""
    return [
        n
        for n in _not_started(compiled, phases)
        if all(_phase(phases, u) in DONE_OK for u in upstream_of(compiled, n))
    ]


def skipped_nodes(compiled: compiler_pb2.CompiledWorkflow, phases: Mapping[str, int]) -> list[str]:
    """Nodes not started with a SKIPPED upstream node and no failed one: they are skipped too
    (a branch not taken skips what depends on it)."""
    out = []
    for n in _not_started(compiled, phases):
        ups = [_phase(phases, u) for u in upstream_of(compiled, n)]
        if _P.PHASE_SKIPPED in ups and not any(p in DONE_BAD for p in ups):
            out.append(n)
    return out


def blocked_nodes(compiled: compiler_pb2.CompiledWorkflow, phases: Mapping[str, int]) -> list[str]:
    """Nodes not started with an upstream node that failed, aborted or timed out: they can
    never run (under FAIL_AFTER_EXECUTABLE_NODES_COMPLETE the engine waits for the rest)."""
    return [
        n
        for n in _not_started(compiled, phases)
        if any(_phase(phases, u) in DONE_BAD for u in upstream_of(compiled, n))
    ]
