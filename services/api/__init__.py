"""The read API: images and findings from PostgreSQL over HTTP, with an OpenAPI 3.1 document.

``assay service api`` serves it on ``ASSAY_API_LISTEN``; ``assay images`` and
``assay findings --api URL`` are its command-line clients (``client``).
"""

from services.api.app import make_app
from services.api.openapi import openapi_document
from services.api.server import parse_listen, serve_api

__all__ = ["make_app", "openapi_document", "parse_listen", "serve_api"]
