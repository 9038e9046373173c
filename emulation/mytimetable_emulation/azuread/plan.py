"""The planned state terraform-plugin-sdk computes for the bridge (PlanResourceChange over
schemaMap.Diff, pulumi's fork of helper/schema; pulumi-terraform-bridge v3.137.0
pkg/tfshim/sdk-v2/provider2.go:274-346), in Pulumi's shape.

The rules, each checked against a build of the real plugin (docs/real-engine.md, "How the plugin
was checked"):
- an attribute whose configured value equals the prior one (an absent Optional attribute equals
  its zero value: "", false, 0, an empty collection) keeps the prior value, whatever its shape;
- an absent Optional+Computed attribute keeps the prior value (unknown on create);
- a changed attribute takes the configured value; an absent or empty collection ATTRIBUTE plans as
  null, an absent block collection as [] (a MaxItems=1 block as null);
- inside a changed MaxItems=1 block each nested attribute follows the same rules;
- a DiffSuppressFunc may keep a block the configuration omits (application_resource.go:845-939);
- a change of a ForceNew attribute means a replacement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .schema import BOOL, INT, LIST, MAP, SET, STRING, UNKNOWN, Attr, Block, as_list, from_list, is_unknown
from .tfset import state_order

Suppress = Callable[[str, Any], bool]  # (tf key of the block, its prior value) -> keep it


def _is_block(attr: Attr) -> bool:
    return attr.block is not None


def _scalar_equal(kind: str, prior: Any, config: Any) -> bool:
    zero: Any = {STRING: "", BOOL: False, INT: 0}.get(kind)
    left = zero if prior is None else prior
    right = zero if config is None else config
    if kind == INT:
        return float(left) == float(right)
    return bool(left == right)


def _canon(attr_or_elem: Any, value: Any) -> str:
    """A comparable text of a value, blocks filled with their zero values."""
    if isinstance(attr_or_elem, Block):
        return json.dumps(_fill(attr_or_elem, value or {}), sort_keys=True)
    return json.dumps(value, sort_keys=True)


def _fill(block: Block, value: dict) -> dict:
    out: dict[str, Any] = {}
    for attr in block.attrs:
        if attr.computed and not (attr.optional or attr.required):
            continue
        item = value.get(attr.name)
        if attr.kind in (LIST, SET):
            items = as_list(attr, item)
            canon = [_canon(attr.elem, i) for i in items]
            out[attr.name] = sorted(canon) if attr.kind == SET else canon
        elif attr.kind == MAP:
            out[attr.name] = item or {}
        else:
            out[attr.name] = {STRING: "", BOOL: False, INT: 0}[attr.kind] if item is None else item
    return out


def equal(attr: Attr, prior: Any, config: Any, key: str, suppress: Suppress | None) -> bool:
    """Does the SDK see no change for `attr` from `prior` (state) to `config`?"""
    if attr.kind in (STRING, BOOL, INT):
        return _scalar_equal(attr.kind, prior, config)
    if attr.kind == MAP:
        return (prior or {}) == (config or {})
    old, new = as_list(attr, prior), as_list(attr, config)
    if _is_block(attr) and attr.max_items_one:
        if old and not new:
            return bool(suppress and suppress(key, old[0]))
        if not old and not new:
            return True
        if len(old) != len(new):
            return False
        block = attr.block
        assert block is not None
        return all(equal(a, (old[0] or {}).get(a.name), (new[0] or {}).get(a.name), f"{key}.0.{a.tf}", suppress)
                   for a in block.attrs if not (a.computed and (a.name not in (new[0] or {}) or not (a.optional or a.required))))
    canon_old = [_canon(attr.elem, v) for v in old]
    canon_new = [_canon(attr.elem, v) for v in new]
    if attr.kind == SET:
        return sorted(set(canon_old)) == sorted(set(canon_new))
    return canon_old == canon_new


def configured(attr: Attr, value: Any, prior_block: Any = None) -> Any:
    """The planned value of an attribute that changed: the configuration in the state's shape."""
    if value is None or (attr.kind in (LIST, SET) and not attr.max_items_one and value == []):
        if _is_block(attr):
            return None if attr.max_items_one else []
        return None
    if not isinstance(value, (list, dict)) and value == UNKNOWN:
        return UNKNOWN
    if attr.kind in (LIST, SET):
        items = as_list(attr, value)
        if _is_block(attr):
            block = attr.block
            assert block is not None
            prior_items = as_list(attr, prior_block) if attr.max_items_one else []
            items = [_planned_block(block, item or {}, prior_items[0] if prior_items else None) for item in items]
        if attr.kind == SET and not is_unknown(items):
            items = state_order(attr, items)
        return from_list(attr, items)
    return value


def _planned_block(block: Block, config: dict, prior: dict | None) -> dict:
    out = {}
    for attr in block.attrs:
        value = config.get(attr.name)
        old = (prior or {}).get(attr.name) if prior is not None else None
        if attr.computed and value is None:
            out[attr.name] = old if prior is not None else UNKNOWN
        elif prior is not None and equal(attr, old, value, attr.tf, None):
            out[attr.name] = old
        else:
            out[attr.name] = configured(attr, value, old)
    return out


def plan(block: Block, prior: dict | None, config: dict, suppress: Suppress | None = None) -> tuple[dict, list[str], bool]:
    """(planned state, names of the attributes that change, requires replacement)."""
    planned: dict = {}
    changed: list[str] = []
    for attr in block.attrs:
        value = config.get(attr.name)
        if prior is None:
            if attr.computed and value is None:
                planned[attr.name] = UNKNOWN
            elif not (attr.optional or attr.required):
                planned[attr.name] = UNKNOWN
            else:
                planned[attr.name] = configured(attr, value)
            continue
        old = prior.get(attr.name)
        if not (attr.optional or attr.required) or (attr.computed and value is None):
            planned[attr.name] = old
            continue
        if isinstance(value, str) and value == UNKNOWN:
            planned[attr.name] = UNKNOWN
            changed.append(attr.name)
            continue
        if equal(attr, old, value, attr.tf, suppress) and not is_unknown(value):
            planned[attr.name] = old
            continue
        planned[attr.name] = _merge(attr, old, value, suppress)
        changed.append(attr.name)
    requires_new = any(block.get(name).force_new for name in changed)  # type: ignore[union-attr]
    return planned, changed, requires_new


def _merge(attr: Attr, prior: Any, config: Any, suppress: Suppress | None) -> Any:
    """A changed MaxItems=1 block keeps its unchanged nested attributes as they were."""
    if not (_is_block(attr) and attr.max_items_one):
        return configured(attr, config, prior)
    old, new = as_list(attr, prior), as_list(attr, config)
    if not new or not old or old[0] is None:
        return configured(attr, config, prior)
    block = attr.block
    assert block is not None
    out = {}
    for nested in block.attrs:
        value = (new[0] or {}).get(nested.name)
        before = old[0].get(nested.name)
        key = f"{attr.tf}.0.{nested.tf}"
        if nested.computed and value is None:
            out[nested.name] = before
        elif equal(nested, before, value, key, suppress):
            out[nested.name] = before
        else:
            out[nested.name] = _merge(nested, before, value, suppress)
    return out
