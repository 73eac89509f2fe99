"""House rules of the contracts that buf lint does not check."""

from __future__ import annotations

from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2, json_format, struct_pb2
from google.protobuf.message import Message

from skyloom_idl.core import tasks_pb2
from skyloom_idl.plugins import aws_batch_pb2, mpi_pb2, snowflake_pb2, spark_pb2

# Which packages each package may import: contracts are layered, so a change to a lower
# layer is the only way to affect a higher one, and generated modules never import in a cycle.
ALLOWED_IMPORTS = {
    "skyloom.core": {"skyloom.core"},
    "skyloom.admin": {"skyloom.core", "skyloom.admin"},
    "skyloom.event": {"skyloom.core", "skyloom.admin", "skyloom.event"},
    "skyloom.datacatalog": {"skyloom.core", "skyloom.datacatalog"},
    "skyloom.plugins": {"skyloom.core", "skyloom.plugins"},
    "skyloom.service": {
        "skyloom.admin", "skyloom.event", "skyloom.datacatalog", "skyloom.plugins",
    },
}  # fmt: skip

# Message, service and RPC paths in SourceCodeInfo (descriptor.proto field numbers).
_MESSAGE, _NESTED, _SERVICE = 4, 3, 6


def test_packages_import_only_lower_layers(
    source_files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    package_of = {f.name: f.package for f in source_files}
    for f in source_files:
        imported = {package_of[d] for d in f.dependency if d in package_of}
        assert imported <= ALLOWED_IMPORTS[f.package], f.name


def _commented_paths(f: descriptor_pb2.FileDescriptorProto) -> set[tuple[int, ...]]:
    return {
        tuple(loc.path)
        for loc in f.source_code_info.location
        if loc.leading_comments.strip() or loc.trailing_comments.strip()
    }


def _message_paths(
    messages: list[descriptor_pb2.DescriptorProto], prefix: tuple[int, ...], tag: int, name: str
) -> list[tuple[tuple[int, ...], str]]:
    out = []
    for i, m in enumerate(messages):
        if m.options.map_entry:  # synthesized for map<k, v> fields; cannot carry a comment
            continue
        path = (*prefix, tag, i)
        out.append((path, f"{name}.{m.name}"))
        out += _message_paths(list(m.nested_type), path, _NESTED, f"{name}.{m.name}")
    return out


def test_every_message_and_service_is_documented(
    source_files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    # Comments carry the contracts (idempotency, units, error field paths): a message
    # without one is a contract nobody wrote down. core is held to the same rule for its
    # top-level messages.
    missing = []
    for f in source_files:
        commented = _commented_paths(f)
        paths = _message_paths(list(f.message_type), (), _MESSAGE, f.package)
        if f.package == "skyloom.core":
            paths = [(p, n) for p, n in paths if len(p) == 2]
        paths += [((_SERVICE, i), f"{f.package}.{s.name}") for i, s in enumerate(f.service)]
        missing += [name for path, name in paths if path not in commented]
    assert missing == []


def _all_messages(modules: dict[str, ModuleType]) -> list[type[Message]]:
    out = []
    for module in modules.values():
        descriptor = getattr(module, "DESCRIPTOR", None)
        for name in getattr(descriptor, "message_types_by_name", {}):
            out.append(getattr(module, name))
    return out


def test_list_calls_page(modules: dict[str, ModuleType]) -> None:
    # Every list can grow without bound; one without paging is an outage waiting to happen.
    # ListMatchableAttributes is bounded by the number of scopes of a project.
    unpaged = {"ListMatchableAttributesRequest"}
    for cls in _all_messages(modules):
        name = cls.DESCRIPTOR.name
        fields = cls.DESCRIPTOR.fields_by_name
        if name.startswith("List") and name.endswith("Request") and name not in unpaged:
            assert "page" in fields or "pagination" in fields, name
        if (
            name.startswith("List")
            and name.endswith("Response")
            and not name.startswith("ListMatchableAttributes")
        ):
            assert fields["next_token"].type == fields["next_token"].TYPE_STRING, name


@pytest.mark.parametrize(
    "name",
    ["WorkflowExecutionEvent", "NodeExecutionEvent", "TaskExecutionEvent"],
)
def test_events_carry_identity_producer_and_time(modules: dict[str, ModuleType], name: str) -> None:
    cls = getattr(modules["skyloom_idl.event.event_pb2"], name)
    fields = cls.DESCRIPTOR.fields_by_name
    assert fields["event_id"].number == 1
    assert fields["producer_id"].type == fields["producer_id"].TYPE_STRING
    assert fields["occurred_at"].message_type.full_name == "google.protobuf.Timestamp"
    assert {f.name for f in cls.DESCRIPTOR.oneofs_by_name["output_result"].fields} == {
        "output_uri",
        "output_data",
        "error",
    }


PLUGIN_CONFIGS: list[Message] = [
    spark_pb2.SparkJob(
        application_type=spark_pb2.SparkJob.APPLICATION_TYPE_PYTHON,
        spark_conf={"spark.executor.cores": "2"},
        hadoop_conf={"fs.s3a.path.style.access": "true"},
        executor_instances=3,
        driver_resources=tasks_pb2.Resources(
            requests=[tasks_pb2.Resources.ResourceEntry(
                name=tasks_pb2.Resources.RESOURCE_NAME_MEMORY, value="2Gi"
            )]
        ),
    ),
    mpi_pb2.MPIJob(
        workers=2,
        slots=4,
        worker=mpi_pb2.MPIReplicaSpec(replicas=2, command=["python", "-m", "train"]),
        run_policy=mpi_pb2.RunPolicy(
            clean_pod_policy=mpi_pb2.RunPolicy.CLEAN_POD_POLICY_ALL, backoff_limit=1
        ),
    ),
    snowflake_pb2.SnowflakeQuery(
        account="org-acct", warehouse="wh", query_template="select {{ .inputs.x }}"
    ),
    aws_batch_pb2.AWSBatchJob(
        job_queue="q",
        array_size=10,
        parameters={"a": "b"},
        platform_capabilities=[aws_batch_pb2.AWSBatchJob.PLATFORM_CAPABILITY_FARGATE],
    ),
]  # fmt: skip


@pytest.mark.parametrize("config", PLUGIN_CONFIGS, ids=lambda c: c.DESCRIPTOR.name)
def test_plugin_configs_survive_task_template_custom(config: Message) -> None:
    # Plugin configs travel as TaskTemplate.custom (a Struct, i.e. JSON): the round trip
    # through a serialized template must give back the same message.
    custom = struct_pb2.Struct()
    custom.update(json_format.MessageToDict(config))
    template = tasks_pb2.TaskTemplate(type="plugin", custom=custom)
    wire = tasks_pb2.TaskTemplate.FromString(template.SerializeToString())
    back = type(config)()
    json_format.ParseDict(json_format.MessageToDict(wire.custom), back)
    assert back == config
