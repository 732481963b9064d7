"""The API's read model over the store's tables (the console and the CLI's listings read it too).

``Reads(store.pool)`` answers filtered, keyset-paginated queries; the views it returns are what
the API serves. ``Reads.scoped(scope)`` answers them within a caller's environments and OUs.
"""

from services.api.store.reads import Reads
from services.api.store.views import (
    FindingFilter,
    FindingView,
    ImageFilter,
    ImageLocation,
    ImageView,
    Workload,
    WorkloadImage,
)

__all__ = [
    "FindingFilter",
    "FindingView",
    "ImageFilter",
    "ImageLocation",
    "ImageView",
    "Reads",
    "Workload",
    "WorkloadImage",
]
