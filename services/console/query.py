"""The Findings page's query string: the read API's filters plus sorting and paging.

The filters are the read API's own (``services.api.params.finding_filter``), so a console URL and
an API URL with the same filters select the same findings; the console adds ``sort``, ``order``,
``page`` and ``per_page``. The selection is read once, up to ``max_rows``, sorted and paged here,
so every column sorts over the whole selection, not just the page on screen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Final
from urllib.parse import urlencode

import msgspec

from schemas.vocabulary import SEVERITIES, severity_rank
from services.api.params import ParamError, finding_filter
from services.api.store import FindingFilter, FindingView

__all__ = [
    "FILTERS",
    "SORTS",
    "FindingQuery",
    "finding_query",
    "page_of",
    "query_string",
    "severity_counts",
    "sorted_findings",
]

# The filter fields the page offers, in form order: (query parameter, label).
FILTERS: Final[tuple[tuple[str, str], ...]] = (
    ("q", "Search"),
    ("environment", "Environment"),
    ("ou", "OU"),
    ("ruleset", "Ruleset"),
    ("category", "Category"),
    ("state", "State"),
    ("digest", "Image digest"),
    ("package", "Package"),
)


def _text_key(attr: str) -> Callable[[FindingView], tuple[str, int, str]]:
    def key(f: FindingView) -> tuple[str, int, str]:
        return (str(getattr(f, attr) or "").lower(), severity_rank(f.severity), f.finding_id)

    return key


# column -> sort key; severity (most severe first) is the default and the read API's own order
SORTS: Final[dict[str, Callable[[FindingView], tuple[object, ...]]]] = {
    "severity": lambda f: (severity_rank(f.severity), f.finding_id),
    "id": _text_key("id"),
    "title": _text_key("title"),
    "package": _text_key("package_name"),
    "image": _text_key("image_ref"),
    "category": _text_key("category"),
    "state": _text_key("state"),
    "ruleset": _text_key("ruleset"),
    "first_seen": _text_key("first_seen"),
}
_CONSOLE_PARAMS: Final = frozenset({"sort", "order", "page", "per_page"})
DEFAULT_PER_PAGE: Final = 100


class FindingQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed Findings page request: the store filter, the sort and the page."""

    flt: FindingFilter
    sort: str = "severity"
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def _one(query: Mapping[str, Sequence[str]], name: str, default: str) -> str:
    values = [v.strip() for v in query.get(name, ()) if v.strip()]
    return values[-1] if values else default


def _positive(query: Mapping[str, Sequence[str]], name: str, default: int, most: int) -> int:
    raw = _one(query, name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(f"parameter {name!r} must be a whole number, not {raw!r}") from None
    if not 1 <= value <= most:
        raise ParamError(f"parameter {name!r} must be between 1 and {most}, not {value}")
    return value


def finding_query(query: Mapping[str, Sequence[str]], max_rows: int) -> FindingQuery:
    """Parse a Findings page query; ``ParamError`` names a bad or unknown parameter."""
    api_query = {k: [v for v in vs if v.strip()] for k, vs in query.items() if k not in _CONSOLE_PARAMS}
    if "limit" in api_query or "cursor" in api_query:
        raise ParamError("the console pages with 'page' and 'per_page', not 'limit' or 'cursor'")
    flt = finding_filter({k: vs for k, vs in api_query.items() if vs})
    sort = _one(query, "sort", "severity")
    if sort not in SORTS:
        raise ParamError(f"parameter 'sort': unknown column {sort!r} (one of {', '.join(SORTS)})")
    order = _one(query, "order", "asc")
    if order not in ("asc", "desc"):
        raise ParamError(f"parameter 'order' must be 'asc' or 'desc', not {order!r}")
    return FindingQuery(
        flt=msgspec.structs.replace(flt, limit=max_rows + 1),  # one more: "there are more than shown"
        sort=sort,
        descending=order == "desc",
        page=_positive(query, "page", 1, 1_000_000),
        per_page=_positive(query, "per_page", DEFAULT_PER_PAGE, max_rows),
    )


def sorted_findings(rows: Sequence[FindingView], fq: FindingQuery) -> list[FindingView]:
    """``rows`` in the requested column order (ties broken by severity, then finding id)."""
    return sorted(rows, key=SORTS[fq.sort], reverse=fq.descending)


def page_of(rows: Sequence[FindingView], fq: FindingQuery) -> tuple[list[FindingView], int]:
    """The requested page of ``rows`` and the number of pages (at least 1)."""
    pages = max(1, -(-len(rows) // fq.per_page))
    start = (fq.page - 1) * fq.per_page
    return list(rows[start : start + fq.per_page]), pages


def severity_counts(rows: Sequence[FindingView]) -> dict[str, int]:
    """How many of ``rows`` have each severity, in ``SEVERITIES`` order (unknown spellings: UNKNOWN)."""
    counts = Counter(SEVERITIES[severity_rank(f.severity)] for f in rows)
    return {sev: counts.get(sev, 0) for sev in SEVERITIES}


def query_string(query: Mapping[str, Sequence[str]], **changes: str | None) -> str:
    """``query`` re-encoded with ``changes`` applied (None removes a parameter); empty values dropped."""
    pairs = [(k, v) for k, vs in query.items() if k not in changes for v in vs if v.strip()]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(pairs)
