"""Executions: create, read, list, terminate, relaunch, recover; the execution plane."""

from skyloom_admin.executions.manager import ExecutionConfig, ExecutionManager
from skyloom_admin.executions.plane import ExecutionPlane, build_execution_plane
from skyloom_admin.executions.wiring import build_plane

__all__ = [
    "ExecutionConfig",
    "ExecutionManager",
    "ExecutionPlane",
    "build_execution_plane",
    "build_plane",
]
