"""Harbor's pluggable scanner adapter API (v1.1), so Harbor users can pick Assay as their scanner.

``GET /api/v1/metadata``, ``POST /api/v1/scan`` and ``GET /api/v1/scan/{id}/report`` as the
adapter specification (goharbor/pluggable-scanner-spec, ``scanner-adapter-openapi-v1.1.yaml``)
defines them. A scan pulls the artifact from Harbor's registry with the robot-account
credentials Harbor sends, runs the same analysis and assessment as ``assay scan``, and answers
with Harbor's vulnerability report media type (or Assay's own JSON report as the raw type).
"""
