"""What decorators and composition compile to: templates and nodes, checked field by field."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest

from skyloom import (
    CompileError,
    Concurrency,
    CronSchedule,
    Email,
    FixedRate,
    LaunchPlan,
    PluginConfig,
    Resources,
    Secret,
    approve,
    conditional,
    dynamic,
    map_task,
    reference_launch_plan,
    reference_task,
    sleep,
    task,
    wait_for_input,
    workflow,
)
from skyloom_idl.core import security_pb2, tasks_pb2, types_pb2, workflow_pb2

R = tasks_pb2.Resources


@task(
    cache=True,
    cache_version="3",
    cache_serialize=True,
    cache_ignored_inputs=["verbose"],
    retries=2,
    timeout=dt.timedelta(minutes=5),
    interruptible=True,
    requests=Resources(cpu="1", mem="1Gi", gpu=1),
    limits=Resources(cpu="2", mem="2Gi", ephemeral_storage="10Gi"),
    secret_requests=[Secret("aws", "key"), Secret("db", "pw", mount="file")],
    environment={"MODE": "fast"},
    container_image="ghcr.io/me/img:1",
)
def heavy(x: int, verbose: bool = False) -> int:
    """Do heavy work.

    Args:
        x: the input number
    """
    return x


def test_task_template_carries_every_setting() -> None:
    t = heavy.template
    assert t.type == "python"
    assert t.id.name.endswith("test_composition.heavy")
    m = t.metadata
    assert (m.retries.retries, m.timeout.seconds, m.interruptible) == (2, 300, True)
    assert m.cache == tasks_pb2.CacheConfig(
        enabled=True, version="3", serialize=True, ignored_inputs=["verbose"]
    )
    assert m.description == "Do heavy work."
    assert "test_composition.py:" in m.source_location
    assert t.interface.inputs.variables["x"].description == "the input number"
    assert t.interface.inputs.order == ["x", "verbose"]
    assert t.interface.outputs.variables["o0"].type.simple == types_pb2.SIMPLE_TYPE_INTEGER
    c = t.container
    args = list(c.args)
    assert c.image == "ghcr.io/me/img:1"
    assert c.command == ["skyloom-execute"]
    assert args[args.index("--inputs") + 1] == "{{inputs}}"
    assert args[args.index("--output-prefix") + 1] == "{{output_prefix}}"
    assert args[args.index("--module") + 1] == heavy.fn.__module__
    assert args[args.index("--task") + 1] == "heavy"
    assert {(e.name, e.value) for e in c.resources.requests} == {
        (R.RESOURCE_NAME_CPU, "1"),
        (R.RESOURCE_NAME_MEMORY, "1Gi"),
        (R.RESOURCE_NAME_GPU, "1"),
    }
    assert (R.RESOURCE_NAME_EPHEMERAL_STORAGE, "10Gi") in {
        (e.name, e.value) for e in c.resources.limits
    }
    assert [(e.key, e.value) for e in c.env] == [("MODE", "fast")]
    secrets = t.security_context.secrets
    assert [(s.group, s.key) for s in secrets] == [("aws", "key"), ("db", "pw")]
    assert secrets[1].mount_requirement == security_pb2.Secret.MOUNT_TYPE_FILE


def test_decorators_keep_the_function_and_its_signature() -> None:
    assert heavy.__name__ == "heavy"
    assert heavy.__doc__ is not None
    assert heavy.__doc__.startswith("Do heavy work.")
    assert heavy.fn(x=3) == 3


def test_plugin_task_config_sets_type_and_custom() -> None:
    @task(task_config=PluginConfig("spark", {"executors": 2}))
    def spark_job(n: int) -> int:
        return n

    t = spark_job.template
    assert t.type == "spark"
    assert t.custom["executors"] == 2


def test_bad_resource_quantity_fails_at_definition() -> None:
    with pytest.raises(ValueError, match="not a quantity"):
        Resources(mem="lots")


@task
def inc(x: int) -> int:
    return x + 1


class Stats(NamedTuple):
    total: int
    label: str


@task
def stats(x: int) -> Stats:
    return Stats(x, str(x))


@dataclass
class Box:
    size: int
    tags: list[str]


@task
def box(n: int) -> Box:
    return Box(n, ["a"])


def _nodes(wf: Any) -> dict[str, workflow_pb2.Node]:
    return {n.id: n for n in wf.template.nodes}


def test_ordering_named_outputs_attribute_access_and_overrides() -> None:
    @workflow
    def wf(x: int) -> tuple[int, str, int]:
        a = inc(x=x).with_overrides(retries=4, requests=Resources(cpu="3"), name="first")
        s = stats(x=a)
        b = box(n=s.total)
        c = inc(x=b.size)
        a >> b
        return c, s.label, s.total

    nodes = _nodes(wf)
    first = nodes["n0"]
    assert first.metadata.name == "first"
    assert first.task_node.overrides.retries.retries == 4
    assert first.task_node.overrides.resources.requests[0].value == "3"
    assert nodes["n2"].upstream_node_ids == ["n0"]
    assert nodes["n2"].inputs[0].binding.promise.var == "total"
    ref = nodes["n3"].inputs[0].binding.promise
    assert (ref.node_id, ref.var, [a.string_value for a in ref.attr_path]) == ("n2", "o0", ["size"])
    assert [b.binding.promise.var for b in wf.template.outputs] == ["o0", "label", "total"]
    assert wf(x=1) == (3, "2", 2)


def test_map_task_builds_an_array_node_with_fixed_inputs() -> None:
    @task
    def scale(x: int, factor: int) -> int:
        return x * factor

    @workflow
    def wf(xs: list[int]) -> list[int | None]:
        return map_task(functools.partial(scale, factor=10), concurrency=3, min_success_ratio=0.5)(
            x=xs
        )

    node = wf.template.nodes[0]
    assert node.array_node.parallelism == 3
    assert node.array_node.min_success_ratio == pytest.approx(0.5)
    assert node.array_node.node.task_node.reference_id.name.endswith("scale")
    bindings = {b.var: b.binding for b in node.inputs}
    assert bindings["x"].promise.var == "xs"
    assert bindings["factor"].scalar.primitive.integer == 10
    assert wf(xs=[1, 2]) == [10, 20]


def test_conditional_compiles_to_a_branch_node() -> None:
    @workflow
    def wf(x: int) -> int:
        return (
            conditional("sign")
            .if_((x > 0) & (x < 100))
            .then(inc(x=x))
            .elif_(x == 0)
            .then(inc(x=1))
            .else_()
            .fail("negative")
        )

    (node,) = wf.template.nodes
    ie = node.branch_node.if_else
    assert (
        ie.case.condition.conjunction.left_expression.comparison.right_value.primitive.integer == 0
    )
    assert len(ie.other) == 1
    assert ie.error.message == "negative"
    assert node.inputs[0].binding.promise.node_id == "start-node"


def test_subworkflow_launch_plan_and_references() -> None:
    @workflow
    def child(x: int) -> int:
        return inc(x=x)

    lp = LaunchPlan.get_or_create(child, "test_composition.child_lp", default_inputs={"x": 5})
    ref_t = reference_task("proj", "dev", "remote.t", "v1", inputs={"a": int}, outputs={"o0": int})
    ref_lp = reference_launch_plan("proj", "dev", "remote.lp", "v2", {"a": int}, {"o0": int})

    @workflow
    def parent(x: int) -> int:
        return inc(x=ref_lp(a=ref_t(a=child(x=lp()))))

    n = _nodes(parent)
    assert n["n0"].workflow_node.launchplan_ref.name == "test_composition.child_lp"
    assert n["n1"].workflow_node.sub_workflow_ref.name.endswith("child")
    assert n["n2"].task_node.reference_id.version == "v1"
    assert n["n3"].workflow_node.launchplan_ref.project == "proj"


def test_launch_plan_validation_and_identity() -> None:
    @workflow
    def wf(x: int, when: dt.datetime) -> int:
        return inc(x=x)

    lp = LaunchPlan.get_or_create(
        wf,
        "test_composition.lp1",
        default_inputs={"x": 1},
        schedule=CronSchedule("0 * * * *", kickoff_time_input="when"),
        notifications=[Email(["FAILED"], ["a@b.c"])],
        max_parallelism=4,
        concurrency=Concurrency(max=1, policy="abort"),
    )
    assert (
        LaunchPlan.get_or_create(
            wf,
            "test_composition.lp1",
            default_inputs={"x": 1},
            schedule=CronSchedule("0 * * * *", kickoff_time_input="when"),
            notifications=[Email(["FAILED"], ["a@b.c"])],
            max_parallelism=4,
            concurrency=Concurrency(max=1, policy="abort"),
        )
        is lp
    )
    assert lp.spec()["schedule"] == {"cron": "0 * * * *", "kickoff_time_input": "when"}
    with pytest.raises(CompileError, match="already exists with different settings"):
        LaunchPlan.get_or_create(wf, "test_composition.lp1", default_inputs={"x": 2})
    with pytest.raises(CompileError, match="needs defaults for x"):
        LaunchPlan.get_or_create(
            wf, "test_composition.lp2", schedule=FixedRate(dt.timedelta(hours=1), "when")
        )
    with pytest.raises(CompileError, match="both default and fixed"):
        LaunchPlan.get_or_create(
            wf, "test_composition.lp3", default_inputs={"x": 1}, fixed_inputs={"x": 2}
        )
    with pytest.raises(ValueError, match="cron"):
        CronSchedule("every day")


def test_gates_compile_to_gate_nodes() -> None:
    @workflow
    def wf(x: int) -> int:
        v = wait_for_input("threshold", timeout=60, expected_type=int)
        a = approve(inc(x=x), "ship-it", timeout=dt.timedelta(hours=1))
        pause = sleep(dt.timedelta(seconds=5))
        result = inc(x=v)
        pause >> result
        return a

    n = _nodes(wf)
    assert n["n0"].gate_node.signal.signal_id == "threshold"
    assert n["n0"].metadata.timeout.seconds == 60
    assert n["n2"].gate_node.approve.signal_id == "ship-it"
    assert n["n3"].gate_node.sleep.duration.seconds == 5
    assert n["n4"].upstream_node_ids == ["n3"]


def test_failure_policy_and_on_failure_node() -> None:
    @task
    def cleanup(x: int) -> None:
        return None

    @workflow(failure_policy="fail_after_executable_nodes_complete", on_failure=cleanup)
    def wf(x: int) -> int:
        return inc(x=x)

    meta = wf.template.metadata
    assert (
        meta.on_failure
        == workflow_pb2.WorkflowMetadata.ON_FAILURE_POLICY_FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    )
    assert wf.template.failure_node.task_node.reference_id.name.endswith("cleanup")
    assert wf.template.failure_node.inputs[0].binding.promise.var == "x"


def test_dynamic_task_template_is_a_python_task() -> None:
    @dynamic(retries=1)
    def fan(n: int) -> list[int]:
        return [inc(x=i) for i in range(n)]

    assert fan.template.type == "python"
    assert fan.template.metadata.retries.retries == 1
    graph = fan.execute(n=2)
    assert [n.id for n in graph.template.nodes] == ["dn0", "dn1"]
