"""SBOM documents written from a policy ``Report``: CycloneDX 1.6 (with its vulnerabilities) and
SPDX 2.3, through the standards' own libraries.

One writer per format, used by ``assay scan --format`` (``services/cli/formats``) and the
console's SBOM downloads (``services/console/sbom.py``). Each module imports its library when
first used through those callers, since the libraries take a noticeable share of a second.
"""
