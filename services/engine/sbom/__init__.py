"""``assay scan sbom:FILE``: a CycloneDX or SPDX document's packages, matched without an image.

``read_sbom(name, data)`` turns a JSON SBOM into the same ``Analysis`` an image walk produces
(packages with purls, the operating system, unknowns for entries it could not use), so matching,
policy, suppression and every output format work on it unchanged.
"""

from services.engine.sbom.read import read_sbom

__all__ = ["read_sbom"]
