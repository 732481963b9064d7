"""The web console: server-rendered pages over the read model, served by the API on its own port.

``add_console_routes(app, reads)`` mounts it under ``/console``. Templates and static assets ship
in this package (no CDN); every response carries a strict Content-Security-Policy (no inline
script or style). See docs/console.md for why this stack.
"""

from services.console.routes import MAX_ROWS, add_console_routes

__all__ = ["MAX_ROWS", "add_console_routes"]
