"""Node kinds other than tasks: subworkflows and launch plans, branches, gates, arrays."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from skyloom._engine import engine, transfer_context
from skyloom._errors import ExecutionError
from skyloom.core.graph import Graph
from skyloom.local import fastmap
from skyloom.types import parse_text
from skyloom_idl.core import condition_pb2, literals_pb2, workflow_pb2

if TYPE_CHECKING:
    from skyloom.local.executor import Executor

_OPS = condition_pb2.ComparisonExpression


async def run_workflow_node(
    ex: Executor, graph: Graph, node: workflow_pb2.Node, inputs: literals_pb2.LiteralMap, path: str
) -> literals_pb2.LiteralMap:
    ref = node.workflow_node
    if ref.HasField("sub_workflow_ref"):
        sub = graph.entities[ref.sub_workflow_ref.name]
        return await ex.run_graph(sub.graph, inputs, path + ".")
    lp = graph.entities["lp:" + ref.launchplan_ref.name]
    runner = getattr(lp, "run_local", None)
    if runner is not None:
        result: literals_pb2.LiteralMap = await runner(ex, inputs, path)
        return result
    return await ex.run_graph(lp.workflow.graph, lp.literal_inputs(inputs, ex.raw_dir), path + ".")


async def run_branch(
    ex: Executor,
    graph: Graph,
    node: workflow_pb2.Node,
    inputs: literals_pb2.LiteralMap,
    results: Mapping[str, literals_pb2.LiteralMap],
    path: str,
) -> literals_pb2.LiteralMap:
    ie = node.branch_node.if_else
    for block in [ie.case, *ie.other]:
        if evaluate(block.condition, inputs):
            chosen = block.then_node
            break
    else:
        if ie.HasField("error"):
            raise ExecutionError(
                f"conditional {node.metadata.name} ({node.metadata.source_location}) failed: "
                f"{ie.error.message}",
                node_id=path,
                code="BranchFailed",
            )
        chosen = ie.else_node
    return await ex.run_node(graph, chosen, results, f"{path}.{chosen.id}")


def evaluate(expr: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap) -> bool:
    if expr.HasField("conjunction"):
        c = expr.conjunction
        left = evaluate(c.left_expression, inputs)
        if c.operator == condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_AND:
            return left and evaluate(c.right_expression, inputs)
        return left or evaluate(c.right_expression, inputs)
    cmp = expr.comparison
    a, b = _operand(cmp.left_value, inputs), _operand(cmp.right_value, inputs)
    op = cmp.operator
    if op == _OPS.OPERATOR_EQ:
        return bool(a == b)
    if op == _OPS.OPERATOR_NEQ:
        return bool(a != b)
    if op == _OPS.OPERATOR_GT:
        return bool(a > b)
    if op == _OPS.OPERATOR_GTE:
        return bool(a >= b)
    if op == _OPS.OPERATOR_LT:
        return bool(a < b)
    return bool(a <= b)


def _operand(op: condition_pb2.Operand, inputs: literals_pb2.LiteralMap) -> Any:
    if op.HasField("var"):
        scalar = inputs.literals[op.var].scalar
    elif op.HasField("primitive"):
        return _prim(op.primitive)
    else:
        scalar = op.scalar
    if scalar.HasField("primitive"):
        return _prim(scalar.primitive)
    if scalar.HasField("none_type"):
        return None
    if scalar.HasField("enum_value"):
        return scalar.enum_value
    if scalar.HasField("union"):
        return _operand(condition_pb2.Operand(scalar=scalar.union.value.scalar), inputs)
    raise ExecutionError(f"cannot compare a {scalar.WhichOneof('value')} value")


def _prim(p: literals_pb2.Primitive) -> Any:
    kind = p.WhichOneof("value")
    if kind == "datetime":
        return p.datetime.ToDatetime()
    if kind == "duration":
        return p.duration.ToTimedelta()
    return getattr(p, kind) if kind else None


async def run_gate(
    ex: Executor, graph: Graph, node: workflow_pb2.Node, inputs: literals_pb2.LiteralMap, path: str
) -> literals_pb2.LiteralMap:
    gate = node.gate_node
    name = node.metadata.name
    cfg = ex.config
    if gate.HasField("sleep"):
        from skyloom.local.executor import NodeEvent

        seconds = gate.sleep.duration.ToTimedelta().total_seconds()
        ex.emit(NodeEvent(path, name, "WAITING", message=f"sleeping {seconds:g}s"))
        await asyncio.sleep(seconds)
        return literals_pb2.LiteralMap()
    if gate.HasField("approve"):
        sid = gate.approve.signal_id
        if sid in cfg.approvals:
            approved = cfg.approvals[sid]
        elif cfg.prompt is not None:
            answer = await asyncio.to_thread(cfg.prompt, sid, "approve? [y/N]")
            approved = answer.strip().lower() in ("y", "yes", "true", "1")
        else:
            raise ExecutionError(
                f"approval '{sid}' was not given; pass approvals={{'{sid}': True}} "
                f"or --approve {sid}",
                node_id=path,
                code="SignalNotSet",
            )
        if not approved:
            raise ExecutionError(f"approval '{sid}' was rejected", node_id=path, code="Rejected")
        return inputs
    sig = gate.signal
    t = graph.output_types[node.id][sig.output_variable_name]
    if sig.signal_id in cfg.signals:
        value = cfg.signals[sig.signal_id]
    elif cfg.prompt is not None:
        value = await asyncio.to_thread(cfg.prompt, sig.signal_id, getattr(t, "__name__", str(t)))
        value = parse_text(engine(), value, t, transfer_context(ex.raw_dir))
    else:
        raise ExecutionError(
            f"input '{sig.signal_id}' was not given; pass signals={{'{sig.signal_id}': ...}} "
            f"or --signal {sig.signal_id}=VALUE",
            node_id=path,
            code="SignalNotSet",
        )
    lit = engine().to_literal(value, t, transfer_context(ex.raw_dir))
    return literals_pb2.LiteralMap(literals={sig.output_variable_name: lit})


async def run_array(
    ex: Executor,
    graph: Graph,
    node: workflow_pb2.Node,
    full: Mapping[str, literals_pb2.Literal],
    path: str,
) -> literals_pb2.LiteralMap:
    """Run a map node; ``full`` holds its inputs, read only (they may be upstream outputs)."""
    arr = node.array_node
    inner = arr.node
    target = _target(graph, inner)
    mapped = graph.mapped_inputs.get(node.id, frozenset())
    lengths = {len(full[m].collection.literals) for m in mapped}
    if len(lengths) > 1:
        raise ExecutionError(
            f"map {node.metadata.name} ({node.metadata.source_location}): mapped inputs "
            f"{', '.join(sorted(mapped))} have different lengths {sorted(lengths)}",
            node_id=path,
            code="MismatchingLengths",
        )
    n = lengths.pop() if lengths else 0
    outputs = list(target.py_interface.outputs)
    outcomes: list[fastmap.Outcome]
    scalar = None
    spec = fastmap.eligible(ex, target, inner)
    if spec is not None:
        fixed = {v: lit for v, lit in full.items() if v not in mapped}
        columns = {v: list(full[v].collection.literals) for v in mapped}
        name = inner.metadata.name or target.short_name
        outcomes, scalar = await fastmap.run_items(
            ex, target, spec, fixed, columns, n, path, name, arr.parallelism
        )
    else:
        outcomes = [
            o if isinstance(o, BaseException) else [o.literals[v] for v in outputs]
            for o in await _run_items(ex, graph, node, target, full, mapped, n, path)
        ]
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    ratio = arr.min_success_ratio if arr.HasField("min_success_ratio") else 1.0
    need = arr.min_successes if arr.HasField("min_successes") else math.ceil(ratio * n - 1e-9)
    if n - len(failures) < need:
        err = ExecutionError(
            f"map {node.metadata.name} ({node.metadata.source_location}): "
            f"{n - len(failures)} of {n} items succeeded, {need} needed",
            node_id=path,
            code="MinSuccessesNotMet",
        )
        first = next((f for f in failures if isinstance(f, Exception)), None)
        raise err from first
    out = literals_pb2.LiteralMap()
    none = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    ctx = transfer_context(ex.raw_dir)
    for j, var in enumerate(outputs):
        fastmap.fill(out.literals[var].collection.literals, outcomes, j, none, scalar, ctx)
    return out


async def _run_items(
    ex: Executor,
    graph: Graph,
    node: workflow_pb2.Node,
    target: Any,
    full: Mapping[str, literals_pb2.Literal],
    mapped: frozenset[str],
    n: int,
    path: str,
) -> list[literals_pb2.LiteralMap | BaseException]:
    """The general path: each item a node of its own (an asyncio task), as remotely."""
    arr = node.array_node
    inner = arr.node
    slots = asyncio.Semaphore(arr.parallelism) if arr.parallelism else None

    async def item(i: int) -> literals_pb2.LiteralMap:
        one = literals_pb2.LiteralMap()
        for var, lit in full.items():
            one.literals[var].CopyFrom(lit.collection.literals[i] if var in mapped else lit)
        if slots is None:
            return await _run_item(ex, graph, inner, target, one, f"{path}.{i}")
        async with slots:
            return await _run_item(ex, graph, inner, target, one, f"{path}.{i}")

    # Every item is a unit: it may run alongside the others.
    return await asyncio.gather(*[ex.spawn(item(i)) for i in range(n)], return_exceptions=True)


def _target(graph: Graph, node: workflow_pb2.Node) -> Any:
    """The task, workflow or launch plan a node runs."""
    if node.HasField("task_node"):
        return graph.entities[node.task_node.reference_id.name]
    ref = node.workflow_node
    if ref.HasField("sub_workflow_ref"):
        return graph.entities[ref.sub_workflow_ref.name]
    return graph.entities["lp:" + ref.launchplan_ref.name]


async def _run_item(
    ex: Executor,
    graph: Graph,
    inner: workflow_pb2.Node,
    target: Any,
    inputs: literals_pb2.LiteralMap,
    path: str,
) -> literals_pb2.LiteralMap:
    if inner.HasField("task_node"):
        return await ex.run_task(target, inputs, path, inner)
    return await run_workflow_node(ex, graph, inner, inputs, path)
