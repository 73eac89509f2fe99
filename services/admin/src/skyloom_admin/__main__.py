"""``skyloom-admin`` / ``python -m skyloom_admin``: run the admin service.

Configuration comes from ``SKYLOOM_ADMIN__*`` environment variables and the YAML file named by
``--config`` or ``SKYLOOM_ADMIN__CONFIG_FILE`` (see ``skyloom_admin.settings``).
"""

from __future__ import annotations

import argparse
import sys

from skyloom_admin.app import run
from skyloom_admin.settings import load


def main() -> int:
    parser = argparse.ArgumentParser(prog="skyloom-admin", description=__doc__)
    parser.add_argument("--config", help="YAML settings file", default=None)
    args = parser.parse_args()
    return run(load(args.config))


if __name__ == "__main__":
    sys.exit(main())
