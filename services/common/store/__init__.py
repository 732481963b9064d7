"""The PostgreSQL store: the pool, the migrations, and the statements of tables services share.

``Store`` (in ``postgres``) opens the pool and brings the schema up to date; migrations are
numbered SQL files applied by ``migrate``. Each service keeps its own statements beside its code
(``services/dedupe/store``, ``services/policy/store.py``, ``services/api/store``,
``services/admission/store.py``) over ``Store.pool``; what lives here is what several services
read or write (``links``, ``assignments``, ``builds``, ``scans``, ``finding_rows``).
"""

from services.common.store.migrate import migrate
from services.common.store.postgres import Store

__all__ = ["Store", "migrate"]
