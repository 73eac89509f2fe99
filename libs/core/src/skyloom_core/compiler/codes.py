"""The codes a CompileError can carry (Flyte's compiler error names where Flyte has one)."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Why a workflow does not compile. The value is the string in ``CompileError.code``."""

    AMBIGUOUS_REFERENCE = "AmbiguousReference"
    BRANCH_NODE_HAS_NO_CONDITION = "BranchNodeHasNoCondition"
    BRANCH_NODE_HAS_NO_DEFAULT = "BranchNodeHasNoDefault"
    CYCLE_DETECTED = "CycleDetected"
    DUPLICATE_NODE_ID = "DuplicateNodeId"
    INVALID_ARRAY_NODE = "InvalidArrayNode"
    INVALID_ATTRIBUTE_PATH = "InvalidAttributePath"
    INVALID_CONDITION = "InvalidCondition"
    INVALID_DYNAMIC_JOB = "InvalidDynamicJob"
    INVALID_GATE_NODE = "InvalidGateNode"
    INVALID_NODE_ID = "InvalidNodeId"
    LAUNCH_PLAN_REFERENCE_NOT_FOUND = "LaunchPlanReferenceNotFound"
    MISMATCHING_BRANCH_OUTPUTS = "MismatchingBranchOutputs"
    MISMATCHING_TYPES = "MismatchingTypes"
    NO_NODES_FOUND = "NoNodesFound"
    NODE_HAS_NO_TARGET = "NodeHasNoTarget"
    PARAMETER_BOUND_MORE_THAN_ONCE = "ParameterBoundMoreThanOnce"
    PARAMETER_NOT_BOUND = "ParameterNotBound"
    RESERVED_NODE_ID = "ReservedNodeId"
    TASK_REFERENCE_NOT_FOUND = "TaskReferenceNotFound"
    UNKNOWN_INPUT = "UnknownInput"
    UNKNOWN_NODE = "UnknownNode"
    UNKNOWN_OUTPUT = "UnknownOutput"
    UNREACHABLE_NODES = "UnreachableNodes"
    WORKFLOW_REFERENCE_NOT_FOUND = "WorkflowReferenceNotFound"
