"""Catalog storage: the repository Protocol and its Postgres implementation."""

from skyloom_datacatalog.store.postgres import PostgresCatalog
from skyloom_datacatalog.store.protocol import CatalogRepository

__all__ = ["CatalogRepository", "PostgresCatalog"]
