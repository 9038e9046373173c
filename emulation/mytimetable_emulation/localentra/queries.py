"""Graph's `$select` and `$filter` as local Entra's callers use them (Learn, "Use query parameters to
customize responses", https://learn.microsoft.com/graph/query-parameters).

`$filter` takes `<property> eq '<value>'` clauses joined by `or` or `and`; a quote inside a value is
written twice (OData's escaping, the same page). A clause Graph cannot parse, such as the azuread
provider's unescaped `displayName eq 'O'Brien'`, gets Graph's 400 BadRequest "Invalid filter clause:
Syntax error at position <n> in '<filter>'." (as Graph answers it, Microsoft365DSC/Microsoft365DSC#6133;
the position is where local Entra's parser stops, which may differ from Graph's by a few characters).
Directory string properties compare without case (Learn: "Advanced query capabilities on Microsoft
Entra ID objects": eq on strings is case-insensitive).
"""

from __future__ import annotations

import re

from .errors import GraphError

_CLAUSE = re.compile(r"\s*(\w+)\s+eq\s+'((?:[^']|'')*)'")
_JOIN = re.compile(r"\s+(or|and)\b", re.IGNORECASE)


def select(obj: dict, query: dict) -> dict:
    fields = [f.strip() for f in query.get("$select", "").split(",") if f.strip()]
    if not fields:
        return obj
    return {k: v for k, v in obj.items() if k in fields or k == "id"}


def _syntax(text: str, position: int) -> GraphError:
    return GraphError(400, "BadRequest", f"Invalid filter clause: Syntax error at position {position} in '{text}'.")


def _parse(text: str) -> list[list[tuple[str, str]]]:
    """Disjunctive form: a list of `and` groups, each a list of (property, value)."""
    groups: list[list[tuple[str, str]]] = [[]]
    position = 0
    while True:
        match = _CLAUSE.match(text, position)
        if not match:
            if re.match(r"\s*\w+\s+(eq|ne|startswith|in)\b", text[position:]) and "'" not in text[position:]:
                raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause specified: {text}")
            raise _syntax(text, position)
        groups[-1].append((match.group(1), match.group(2).replace("''", "'")))
        position = match.end()
        if not text[position:].strip():
            return groups
        join = _JOIN.match(text, position)
        if not join:
            raise _syntax(text, position)
        if join.group(1).lower() == "or":
            groups.append([])
        position = join.end()


def filtered(items: list[dict], query: dict) -> list[dict]:
    text = query.get("$filter")
    if not text:
        return items
    groups = _parse(text)
    return [i for i in items
            if any(all(str(i.get(prop, "")).lower() == value.lower() for prop, value in group) for group in groups)]
