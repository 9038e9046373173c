"""The bridge's detailed diff between the prior state and the planned state
(pulumi-terraform-bridge v3.137.0 pkg/tfbridge/detailed_diff.go:779-858, MakeDetailedDiffV2, cited
`dd:<line>`), and the DiffResponse around it (pkg/tfbridge/provider.go:1241-1305).

Keys are Pulumi property paths (`web.redirectUris[1]`); kinds ADD/DELETE/UPDATE, promoted to
*_REPLACE on a ForceNew path. Sets are diffed by element identity: removed elements under their old
index, added ones under the index of the matching element of the new inputs; when an added element
matches no input, the whole set is one UPDATE (dd:688-725). Lists of scalars get an element diff
(dd:426-474); blocks and MaxItems=1 blocks recurse per key.
"""

from __future__ import annotations

import json
from typing import Any

from .schema import LIST, MAP, SET, UNKNOWN, Attr, Block, is_unknown

ADD, ADD_REPLACE, DELETE, DELETE_REPLACE, UPDATE, UPDATE_REPLACE = range(6)  # pulumirpc.PropertyDiff.Kind
_PROMOTE = {ADD: ADD_REPLACE, DELETE: DELETE_REPLACE, UPDATE: UPDATE_REPLACE}
_DEMOTE = {v: k for k, v in _PROMOTE.items()}


def _present(value: Any) -> bool:
    return value is not None


def _identity(elem: Any, value: Any) -> str:
    """A set element's identity (the SDK hashes it; equal values hash alike)."""
    if isinstance(elem, Block) and isinstance(value, dict):
        return json.dumps({a.name: value.get(a.name) for a in elem.attrs if a.optional or a.required}, sort_keys=True)
    return json.dumps(value, sort_keys=True)


def _without_reserved(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_reserved(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_without_reserved(v) for v in value]
    return value


class Differ:
    def __init__(self, block: Block, new_inputs: dict):
        self.block = block
        self.inputs = _without_reserved(new_inputs)
        self.out: dict[str, int] = {}

    def _put(self, path: str, kind: int, force_new: bool) -> None:
        self.out[path] = _PROMOTE.get(kind, kind) if force_new else kind

    def prop(self, path: str, attr: Attr | None, elem: Any, old: Any, new: Any, force_new: bool,
             input_value: Any) -> None:
        """makePropDiff (dd:361-392): `attr` the schema at this path (None for a collection element, then
        `elem` is the element's schema)."""
        if not _present(old) and not _present(new):
            return
        if not _present(old):
            return self._put(path, ADD, force_new)
        if not _present(new):
            return self._put(path, DELETE, force_new)
        if not isinstance(new, (list, dict)) and new == UNKNOWN:
            return self._put(path, UPDATE, force_new)
        kind = attr.kind if attr is not None else (MAP if isinstance(elem, Block) else None)
        block = attr.block if attr is not None else (elem if isinstance(elem, Block) else None)
        if attr is not None and attr.max_items_one:
            kind = MAP if block is not None else None
        if kind == LIST and attr is not None and isinstance(old, list) and isinstance(new, list):
            return self._list(path, attr, old, new, force_new, input_value)
        if kind == SET and attr is not None and isinstance(old, list) and isinstance(new, list):
            return self._set(path, attr, old, new, force_new, input_value)
        if kind == MAP and isinstance(old, dict) and isinstance(new, dict):
            return self._map(path, block, old, new, force_new, input_value)
        if json.dumps(old, sort_keys=True) != json.dumps(new, sort_keys=True):
            self._put(path, UPDATE, force_new)

    def _map(self, path: str, block: Block | None, old: dict, new: dict, force_new: bool, input_value: Any) -> None:
        for key in sorted(set(old) | set(new)):
            if key.startswith("__"):
                continue
            nested = block.get(key) if block is not None else None
            sub_input = input_value.get(key) if isinstance(input_value, dict) else None
            self.prop(f"{path}.{key}", nested, None, old.get(key), new.get(key),
                      force_new or bool(nested and nested.force_new), sub_input)

    def _list(self, path: str, attr: Attr, old: list, new: list, force_new: bool, input_value: Any) -> None:
        if attr.block is None:  # makeListAttributeDiff (dd:426-474): an LCS edit script of the elements
            for kind, index in _edits(old, new):
                key = f"{path}[{index}]"
                self.out[key] = UPDATE if key in self.out else kind
                if force_new:
                    self.out[key] = _PROMOTE[self.out[key]]
            return
        for index in range(max(len(old), len(new))):
            sub_input = input_value[index] if isinstance(input_value, list) and index < len(input_value) else None
            self.prop(f"{path}[{index}]", None, attr.block, old[index] if index < len(old) else None,
                      new[index] if index < len(new) else None, force_new, sub_input)

    def _set(self, path: str, attr: Attr, old: list, new: list, force_new: bool, input_value: Any) -> None:
        """makeSetDiff (dd:688-725)."""
        old_ids = {_identity(attr.elem, v): i for i, v in enumerate(old)}
        new_ids = {_identity(attr.elem, v): i for i, v in enumerate(new)}
        removed = sorted(i for k, i in old_ids.items() if k not in new_ids)
        added = sorted(i for k, i in new_ids.items() if k not in old_ids)
        if not removed and not added:
            return
        inputs = input_value if isinstance(input_value, list) else []
        matched: dict[int, int] = {}
        if len(inputs) >= len(new):
            used: set[int] = set()
            for plan_index in added:
                for i, candidate in enumerate(inputs):
                    if i not in used and _from_inputs(attr.elem, candidate, new[plan_index]):
                        matched[i] = plan_index
                        used.add(i)
                        break
        if len(matched) != len(added):
            self._put(path, UPDATE, force_new)
            return
        changes: dict[int, tuple[bool, bool, int]] = {i: (True, False, 0) for i in removed}
        for input_index, plan_index in matched.items():
            was = changes.get(input_index)
            changes[input_index] = (was is not None, True, plan_index)
        for index, (old_changed, new_changed, plan_index) in changes.items():
            self.prop(f"{path}[{index}]", None, attr.elem, old[index] if old_changed else None,
                      new[plan_index] if new_changed else None, force_new, None)


def _from_inputs(elem: Any, given: Any, planned: Any) -> bool:
    """validInputsFromPlan (dd:156-255): the planned element could come from that input."""
    if isinstance(elem, Block) and isinstance(given, dict) and isinstance(planned, dict):
        for attr in elem.attrs:
            value = given.get(attr.name)
            if attr.computed and value is None:
                continue
            if attr.kind in (LIST, SET, MAP) and value is None:
                if planned.get(attr.name) in (None, [], {}):
                    continue
                return False
            if json.dumps(value, sort_keys=True) != json.dumps(planned.get(attr.name), sort_keys=True):
                return False
        return True
    return bool(given == planned)


def _edits(old: list, new: list) -> list[tuple[int, int]]:
    """Inserts (ADD at the new index) and removals (DELETE at the old index) of an LCS edit script."""
    n, m = len(old), len(new)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if old[i] == new[j] else max(table[i + 1][j], table[i][j + 1])
    out, i, j = [], 0, 0
    while i < n and j < m:
        if old[i] == new[j]:
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            out.append((DELETE, i))
            i += 1
        else:
            out.append((ADD, j))
            j += 1
    out += [(DELETE, k) for k in range(i, n)] + [(ADD, k) for k in range(j, m)]
    return out


def detailed_diff(block: Block, prior: dict, planned: dict, news: dict, requires_new: bool) -> dict[str, int]:
    """MakeDetailedDiffV2 with the replace override the SDK's RequiresNew gives (dd:802-820)."""
    differ = Differ(block, news)
    for key in sorted(set(prior) | set(planned)):
        if key.startswith("__") or key == "id":
            continue
        attr = block.get(key)
        differ.prop(key, attr, None, prior.get(key), planned.get(key), bool(attr and attr.force_new),
                    differ.inputs.get(key))
    result = differ.out
    if requires_new:
        if not any(kind in (ADD_REPLACE, DELETE_REPLACE, UPDATE_REPLACE) for kind in result.values()):
            result["__meta"] = UPDATE_REPLACE
    else:
        result = {k: _DEMOTE.get(v, v) for k, v in result.items()}
    return result


def summarise(block: Block, detailed: dict[str, int], changed: bool) -> tuple[list[str], list[str], list[str]]:
    """(diffs, replaces, stables) of the DiffResponse (provider.go:1241-1296)."""
    properties: set[str] = set()
    replaces: list[str] = []
    if changed:
        for path, kind in detailed.items():
            top = path
            for sep in (".", "["):
                if sep in top:
                    top = top[:top.index(sep)]
            properties.add(top)
            if kind in (ADD_REPLACE, UPDATE_REPLACE, DELETE_REPLACE):
                replaces.append(top)
    replaced = set(replaces)
    stables = sorted(a.name for a in block.attrs if a.force_new and a.name not in replaced)
    return sorted(properties), sorted(replaces), stables


__all__ = ["detailed_diff", "summarise", "is_unknown"]
