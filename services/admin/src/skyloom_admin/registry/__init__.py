"""Registration of tasks, workflows and launch plans."""

from skyloom_admin.registry.convert import launch_plan_of, lp_interface
from skyloom_admin.registry.manager import Created, RegistryManager, digest_of
from skyloom_admin.registry.repository import PostgresRegistry, RegistryRepository
from skyloom_admin.registry.rpcs import LaunchPlanRpcs, TaskRpcs, WorkflowRpcs

__all__ = [
    "Created",
    "LaunchPlanRpcs",
    "PostgresRegistry",
    "RegistryManager",
    "RegistryRepository",
    "TaskRpcs",
    "WorkflowRpcs",
    "digest_of",
    "launch_plan_of",
    "lp_interface",
]
