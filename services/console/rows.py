"""The Findings page's table rows as HTML, built here rather than in Jinja: the page may hold 10,000.

Jinja spends about 13 expression evaluations (attribute lookup, escape, ``Markup``) per row, which
made rendering 10,000 rows the largest part of the page's server time; one f-string per row with
``html.escape`` does the same work several times faster. Every value from a finding is escaped
(quotes too: some go into attributes), exactly as the templates' autoescape would. The markup is
lean on purpose (findings.html says why): no wrapper elements, no whitespace between cells, and the
optional ``</td>`` and ``</tr>`` end tags left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from markupsafe import Markup

from services.api.store import FindingView
from services.console.render import image_name, path_segment

__all__ = ["finding_rows"]


def _row(f: FindingView) -> str:
    fid = escape(f.finding_id)
    suppressed = ' class="suppressed"' if f.suppression else ""
    severity = escape(f.severity)
    package = escape(f"{f.package_name} {f.installed_version}".strip())
    return (
        f'<tr data-finding="{fid}"{suppressed}><td class="sev-{severity.lower()}">{severity.upper()}'
        f'<td><a href="/console/findings/{escape(path_segment(f.finding_id))}">{escape(f.id)}</a>'
        f"<td>{escape(f.title)}<td>{package}"
        f'<td><a href="/console/images/{escape(path_segment(f.digest))}">'
        f"{escape(image_name(f.image_ref, f.digest))}</a>"
        f"<td>{escape(f.category)}<td>{escape(f.state)}<td>{escape(f.ruleset)}\n"
    )


def finding_rows(findings: Iterable[FindingView]) -> Markup:
    """One ``<tr>`` per finding (severity, id linking to it, title, package, image, category, state,
    ruleset), for the Findings page's tables; safe to insert as is."""
    return Markup("".join(_row(f) for f in findings))  # every value in it was escaped by _row
