"""Skyloom scheduler: cron and fixed-rate schedules and event triggers, fired through admin."""

from skyloom_scheduler.admin import AdminClient, AdminRejected, CreateOutcome, GrpcAdminClient
from skyloom_scheduler.service import Scheduler, open_scheduler, run, setup
from skyloom_scheduler.settings import SchedulerSection, SchedulerSettings

__all__ = [
    "AdminClient",
    "AdminRejected",
    "CreateOutcome",
    "GrpcAdminClient",
    "Scheduler",
    "SchedulerSection",
    "SchedulerSettings",
    "open_scheduler",
    "run",
    "setup",
]
