"""The OCI distribution library every service shares: references, the registry client, auth
and credential providers, manifest documents and streaming digest checks.

It lives beside the services, not inside one: inventory, node, admission and the engine all
use it, and it imports only ``services.common`` and ``schemas``.
"""
