"""The advisory updater (``assay service updater``): the one owner of advisory data in the pipeline.

``build.py`` refreshes a working copy of the advisory database from the configured sources
(incrementally) and stores each new build in the object store and PostgreSQL; ``service.py``
runs that on an interval as the single active replica and announces each build on
``assay.advisories.v1``. Engines and policy load builds with ``services/vulndb/builds.py``.
"""
