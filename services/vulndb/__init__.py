"""The advisory database: OSV ingestion, version ordering, range evaluation and matching.

``update_db`` builds a local SQLite database from an OSV export (directory, zip, JSON
folder or URL); ``VulnDB`` reads it; ``match_packages`` turns installed packages into
``VulnMatch`` records.
"""

from services.vulndb.db import Advisory, AffectedPackage, VulnDB
from services.vulndb.ingest import IngestError, SourceStats, UpdateStats, update_db
from services.vulndb.matcher import RESOLVERS, MatchResult, Query, match_packages
from services.vulndb.ranges import affected
from services.vulndb.versions import InvalidVersion, compare_versions

__all__ = [
    "RESOLVERS",
    "Advisory",
    "AffectedPackage",
    "IngestError",
    "InvalidVersion",
    "MatchResult",
    "Query",
    "SourceStats",
    "UpdateStats",
    "VulnDB",
    "affected",
    "compare_versions",
    "match_packages",
    "update_db",
]
