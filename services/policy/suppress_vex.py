"""OpenVEX documents (https://github.com/openvex/spec): statements that a product is not affected.

A statement names a vulnerability (an id or ``{"name": id, "aliases": [...]}``), products
(purls or other identifiers, each optionally with ``subcomponents``) and a status. Assay
applies ``not_affected`` and ``fixed`` statements: a match is suppressed when the
vulnerability is one of its ids and a product names either the package (its purl) or the
scanned image (a ``pkg:oci`` purl or the bare manifest digest, optionally narrowed to
packages by ``subcomponents``). ``affected`` and ``under_investigation`` suppress nothing.
When several statements speak of the same vulnerability and product, the latest
(``timestamp``, then document order) wins, as the specification says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec
from packageurl import PackageURL

from schemas.records import VulnMatch
from services.policy.suppress import Decision, package_matches

SUPPRESSING: Final = frozenset({"not_affected", "fixed"})
STATUSES: Final = frozenset({"not_affected", "affected", "fixed", "under_investigation"})


class Product(msgspec.Struct, frozen=True, kw_only=True):
    """A product of a statement: an identifier and the subcomponents it narrows to."""

    id: str
    subcomponents: tuple[str, ...] = ()


class Statement(msgspec.Struct, frozen=True, kw_only=True):
    """One VEX statement as Assay uses it."""

    vulnerability: tuple[str, ...]  # the name and its aliases
    products: tuple[Product, ...]
    status: str
    justification: str = ""
    impact_statement: str = ""
    timestamp: str = ""
    source: str = ""  # "FILE#N"


class VexDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The statements read from one file and the problems met reading it."""

    statements: list[Statement] = []
    problems: list[str] = []


def _ident(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        for key in ("@id", "id", "name"):
            value = obj.get(key)
            if isinstance(value, str) and value:
                return value
        ids = obj.get("identifiers")
        if isinstance(ids, dict):
            for key in ("purl", "cpe23", "cpe22"):
                if isinstance(ids.get(key), str):
                    return str(ids[key])
    return ""


def _product(obj: Any) -> Product | None:
    ident = _ident(obj)
    if not ident:
        return None
    subs = obj.get("subcomponents", []) if isinstance(obj, dict) else []
    return Product(id=ident, subcomponents=tuple(s for s in (_ident(x) for x in subs or []) if s))


def _vulnerability(obj: Any) -> tuple[str, ...]:
    if isinstance(obj, str):
        return (obj,)
    if isinstance(obj, dict):
        names = [obj.get("name"), obj.get("@id"), *(obj.get("aliases") or [])]
        return tuple(n for n in dict.fromkeys(names) if isinstance(n, str) and n)
    return ()


def parse_openvex(name: str, data: bytes) -> VexDocument:
    """The statements of an OpenVEX JSON document; a bad statement is a problem, the rest still apply."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return VexDocument(problems=[f"{name}: not JSON: {exc}"])
    if not isinstance(doc, dict) or not isinstance(doc.get("statements"), list):
        return VexDocument(problems=[f"{name}: not an OpenVEX document (no `statements` list)"])
    statements: list[Statement] = []
    problems: list[str] = []
    doc_time = doc.get("timestamp") if isinstance(doc.get("timestamp"), str) else ""
    for i, raw in enumerate(doc["statements"], 1):
        where = f"{name}#{i}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: a statement must be an object")
            continue
        vuln = _vulnerability(raw.get("vulnerability"))
        products = tuple(p for p in (_product(x) for x in raw.get("products") or []) if p is not None)
        status = raw.get("status")
        if not vuln or not products or status not in STATUSES:
            problems.append(f"{where}: needs a vulnerability, products and a status in {sorted(STATUSES)}")
            continue
        if status == "not_affected" and not (raw.get("justification") or raw.get("impact_statement")):
            problems.append(f"{where}: a not_affected statement needs a justification or impact_statement")
            continue
        statements.append(
            Statement(
                vulnerability=vuln,
                products=products,
                status=str(status),
                justification=str(raw.get("justification") or ""),
                impact_statement=str(raw.get("impact_statement") or ""),
                timestamp=str(raw.get("timestamp") or doc_time or ""),
                source=where,
            )
        )
    return VexDocument(statements=statements, problems=problems)


def _digest_of(ident: str) -> str:
    """The manifest digest a product identifier names (``pkg:oci/...@sha256:...`` or a bare digest)."""
    if ident.startswith("sha256:"):
        return ident
    if ident.startswith("pkg:oci/"):
        try:
            return PackageURL.from_string(ident).version or ""
        except ValueError:
            return ""
    return ""


def _names_image(ident: str, image_digest: str, image_ref: str) -> bool:
    if not ident:
        return False
    digest = _digest_of(ident)
    if digest:
        return digest == image_digest
    return ident == image_ref


def _applies(product: Product, match: VulnMatch, image_digest: str, image_ref: str) -> bool:
    if product.id.startswith("pkg:") and not product.id.startswith("pkg:oci/"):
        return package_matches(product.id, match)
    if not _names_image(product.id, image_digest, image_ref):
        return False
    return not product.subcomponents or any(package_matches(s, match) for s in product.subcomponents)


class VexFilter:
    """Applies the statements of one or more VEX documents to the matches of one image."""

    def __init__(self, statements: Iterable[Statement], *, image_digest: str, image_ref: str = "") -> None:
        # Stable sort by timestamp: among statements on the same subject, the last one wins.
        self.statements: Sequence[Statement] = sorted(statements, key=lambda s: s.timestamp)
        self.image_digest = image_digest
        self.image_ref = image_ref

    def decide(self, match: VulnMatch) -> Decision | None:
        """The reason ``match`` is suppressed by a ``not_affected``/``fixed`` statement, or None."""
        ids = {match.vuln_id, *match.advisory_ids}
        latest: Statement | None = None
        for st in self.statements:
            if ids.isdisjoint(st.vulnerability):
                continue
            if any(_applies(p, match, self.image_digest, self.image_ref) for p in st.products):
                latest = st
        if latest is None or latest.status not in SUPPRESSING:
            return None
        why = latest.justification or latest.impact_statement
        reason = f"VEX {latest.status}" + (f": {why}" if why else "")
        if latest.justification and latest.impact_statement:
            reason += f" ({latest.impact_statement})"
        return Decision(reason=reason, source=latest.source, kind="vex")
