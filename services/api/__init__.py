"""The read API: images and findings from PostgreSQL over HTTP, with an OpenAPI 3.1 document.

``assay service api`` serves it on ``ASSAY_API_LISTEN``; ``assay images`` and
``assay findings --api URL`` are its command-line clients (``client``). Import from the modules
(``services.api.app``, ``openapi``, ``server``): the package itself loads nothing, so
``services.api.settings`` is cheap to import.
"""
