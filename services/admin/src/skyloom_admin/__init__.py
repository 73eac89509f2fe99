"""Skyloom admin: the control-plane gRPC API (see docs/admin.md)."""

from skyloom_admin.app import Admin, open_admin, run, setup
from skyloom_admin.context import AppContext
from skyloom_admin.settings import AdminSection, AdminSettings, load

__all__ = [
    "Admin",
    "AdminSection",
    "AdminSettings",
    "AppContext",
    "load",
    "open_admin",
    "run",
    "setup",
]
