"""``skyloom-datacatalog`` / ``python -m skyloom_datacatalog``: run the datacatalog service.

Configuration comes from ``SKYLOOM_DATACATALOG__*`` environment variables and the YAML file
named by ``--config`` or ``SKYLOOM_DATACATALOG__CONFIG_FILE`` (see
``skyloom_datacatalog.settings``).
"""

from __future__ import annotations

import argparse
import sys

from skyloom_datacatalog.service import run
from skyloom_datacatalog.settings import load


def main() -> int:
    parser = argparse.ArgumentParser(prog="skyloom-datacatalog", description=__doc__)
    parser.add_argument("--config", help="YAML settings file", default=None)
    args = parser.parse_args()
    return run(load(args.config))


if __name__ == "__main__":
    sys.exit(main())
