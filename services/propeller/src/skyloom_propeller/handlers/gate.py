"""Gate nodes: sleep (a timer), approve and signal (a value set through admin's signals).

Sleep records its deadline in ``wake_at`` when it starts and asks the shell for a wake-up, so no
round polls it. Approve and signal ask the shell once (``WatchSignal``) and wait for the value in
``View.signal``: approve passes its inputs through (a ``false`` is a USER ``Rejected`` failure);
signal outputs the value as ``output_variable_name`` (default ``o0``).
"""

from __future__ import annotations

from skyloom_idl.core import literals_pb2
from skyloom_propeller.commands import WatchSignal
from skyloom_propeller.context import NODE, NodeContext, Transition


class GateHandler:
    def handle(self, ctx: NodeContext) -> Transition:
        gate, st = ctx.node.gate_node, ctx.st
        if gate.HasField("sleep"):
            if not st.wake_at:
                d = gate.sleep.duration
                st.wake_at = ctx.now + d.seconds + d.nanos / 1e9
            if ctx.now >= st.wake_at:
                return Transition.succeeded(st.inputs_uri)
            ctx.rnd.wake(st.wake_at)
            return Transition.running(NODE.PHASE_WAITING)
        signal_id = gate.approve.signal_id if gate.HasField("approve") else gate.signal.signal_id
        if "watching" not in st.detail:
            st.detail["watching"] = signal_id
            ctx.rnd.emit(WatchSignal(signal_id, ctx.path))
        value = ctx.rnd.view.signal(signal_id)
        if value is None:
            return Transition.running(NODE.PHASE_WAITING)
        if gate.HasField("approve"):
            if value.scalar.primitive.boolean:
                return Transition.succeeded(st.inputs_uri)
            return Transition.failed("Rejected", f"approval '{signal_id}' was rejected")
        out = literals_pb2.LiteralMap()
        out.literals[gate.signal.output_variable_name or "o0"].CopyFrom(value)
        uri = ctx.node_uri("outputs.pb")
        ctx.rnd.write(uri, out)
        return Transition.succeeded(uri)

    def abort(self, ctx: NodeContext, reason: str) -> None:
        return None

    def finalize(self, ctx: NodeContext) -> None:
        return None
