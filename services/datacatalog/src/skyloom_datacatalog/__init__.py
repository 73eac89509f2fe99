"""Skyloom datacatalog: memoization store with reservations and cache management.

Layers: :mod:`.servicer` (validates, delegates) → :mod:`.manager` / :mod:`.reservations`
(logic, no grpc) → :mod:`.store` (a Protocol and its Postgres implementation). Entry points:
:func:`setup` / :func:`run` (what ``skyloom-datacatalog`` runs).
"""

from skyloom_datacatalog.service import Datacatalog, open_datacatalog, run, setup
from skyloom_datacatalog.settings import CatalogSettings, DatacatalogSettings, load

__all__ = [
    "CatalogSettings",
    "Datacatalog",
    "DatacatalogSettings",
    "load",
    "open_datacatalog",
    "run",
    "setup",
]
