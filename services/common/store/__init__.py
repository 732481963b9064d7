"""The PostgreSQL store: images, their environments, scans and findings.

``Store`` (in ``postgres``) is the only way services reach the database; migrations are
numbered SQL files applied by ``migrate``.
"""

from services.common.store.migrate import migrate
from services.common.store.postgres import ImageStatus, Store

__all__ = ["ImageStatus", "Store", "migrate"]
