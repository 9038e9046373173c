"""Graph's `$select` and `$filter` as local Entra's callers use them (Learn, "Use query parameters to
customize responses", https://learn.microsoft.com/graph/query-parameters).

`$filter`'s grammar and Graph's refusal of a clause it cannot parse are the catalogue's
(`catalogue.parse_graph_filter`, shared with the offline engine); a refusal is answered as Graph's 400.
Directory string properties compare without case (Learn: "Advanced query capabilities on Microsoft
Entra ID objects": eq on strings is case-insensitive; startswith too).
"""

from __future__ import annotations

from ..catalogue import FilterRefused, parse_graph_filter
from .errors import GraphError


def select(obj: dict, query: dict) -> dict:
    fields = [f.strip() for f in query.get("$select", "").split(",") if f.strip()]
    if not fields:
        return obj
    return {k: v for k, v in obj.items() if k in fields or k == "id"}


def filtered(items: list[dict], query: dict) -> list[dict]:
    text = query.get("$filter")
    if not text:
        return items
    try:
        groups = parse_graph_filter(text)
    except FilterRefused as refused:
        raise GraphError(400, refused.code, refused.message) from None
    return [i for i in items if any(all(_holds(i, *clause) for clause in group) for group in groups)]


def _holds(item: dict, prop: str, operator: str, value: str) -> bool:
    held = str(item.get(prop, "")).lower()
    return held.startswith(value.lower()) if operator == "startswith" else held == value.lower()
