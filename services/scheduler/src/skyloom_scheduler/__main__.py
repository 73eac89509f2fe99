"""``skyloom-scheduler`` / ``python -m skyloom_scheduler``: run the scheduler service.

Configuration comes from ``SKYLOOM_SCHEDULER__*`` environment variables and the YAML file named
by ``--config`` or ``SKYLOOM_SCHEDULER__CONFIG_FILE`` (see ``skyloom_scheduler.settings``).
"""

from __future__ import annotations

import argparse
import sys

from skyloom_scheduler.service import run
from skyloom_scheduler.settings import load


def main() -> int:
    parser = argparse.ArgumentParser(prog="skyloom-scheduler", description=__doc__)
    parser.add_argument("--config", help="YAML settings file", default=None)
    args = parser.parse_args()
    return run(load(args.config))


if __name__ == "__main__":
    sys.exit(main())
