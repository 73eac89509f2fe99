"""Sans-I/O domain logic shared by the SDK and the services.

Types, compiler, cache keys, phase rules and names, each in its own module; the blob store
client lives in ``skyloom_core.blob``. The names below are the stable public surface.
"""

from skyloom_core.cache_key import CacheKey, cache_key
from skyloom_core.compiler import (
    CompilationFailed,
    CompileError,
    ErrorCode,
    LaunchPlanInterface,
    compile_dynamic,
    compile_workflow,
)
from skyloom_core.dag import blocked_nodes, ready_nodes, skipped_nodes
from skyloom_core.errors import (
    CacheKeyError,
    InvalidIdentifier,
    SkyloomCoreError,
    ValidationFailed,
    Violation,
)
from skyloom_core.hashing import hash_literal, hash_literal_map, hash_variable_map
from skyloom_core.ids import (
    attempt_id,
    child_execution_name,
    event_id,
    event_key,
    scheduled_execution_name,
)
from skyloom_core.phases import (
    Decision,
    Outcome,
    check_node_event,
    check_task_event,
    check_workflow_event,
    is_terminal_node,
    is_terminal_task,
    is_terminal_workflow,
)
from skyloom_core.refs import id_key, parse_id_key, resolve
from skyloom_core.sizes import check_literal_limits, literal_map_size
from skyloom_core.types import is_castable, type_name
from skyloom_core.validation import validate_inputs, validate_literal

__all__ = [
    "CacheKey",
    "CacheKeyError",
    "CompilationFailed",
    "CompileError",
    "Decision",
    "ErrorCode",
    "InvalidIdentifier",
    "LaunchPlanInterface",
    "Outcome",
    "SkyloomCoreError",
    "ValidationFailed",
    "Violation",
    "attempt_id",
    "blocked_nodes",
    "cache_key",
    "check_literal_limits",
    "check_node_event",
    "check_task_event",
    "check_workflow_event",
    "child_execution_name",
    "compile_dynamic",
    "compile_workflow",
    "event_id",
    "event_key",
    "hash_literal",
    "hash_literal_map",
    "hash_variable_map",
    "id_key",
    "is_castable",
    "is_terminal_node",
    "is_terminal_task",
    "is_terminal_workflow",
    "literal_map_size",
    "parse_id_key",
    "ready_nodes",
    "resolve",
    "scheduled_execution_name",
    "skipped_nodes",
    "type_name",
    "validate_inputs",
    "validate_literal",
]
