"""Matchable attributes per project, project-domain and workflow, and their resolution."""

from skyloom_admin.attributes.manager import AttributeManager
from skyloom_admin.attributes.repository import AttributeRepository, PostgresAttributes
from skyloom_admin.attributes.resolve import config_layer, launch_plan_layer, resolve
from skyloom_admin.attributes.rpcs import AttributeRpcs

__all__ = [
    "AttributeManager",
    "AttributeRepository",
    "AttributeRpcs",
    "PostgresAttributes",
    "config_layer",
    "launch_plan_layer",
    "resolve",
]
