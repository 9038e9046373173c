"""Terraform sets as terraform-plugin-sdk orders and identifies them (pulumi's fork of helper/schema:
set.go:200-246, serialize.go; internal/helper/hashcode/hashcode.go:17-27).

An element's code is crc32 (IEEE) of its serialisation: `pluginsdk.HashString` hashes the raw
string; the default HashSchema serialises a scalar as `<value>;` and HashResource a block as
`<key>:<value>;...` over its sorted non-computed keys. `Set.List()` returns the elements sorted by
the DECIMAL STRING of their code, which is the order upstream sends sets to Graph (redirectUris,
identifierUris, owners after the caller, claim values joined into `scope`) and the order outputs
carry them in.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from .schema import BOOL, INT, LIST, MAP, SET, STRING, Attr, Block, as_list


def _serialize_value(kind: str, value: Any, elem: Any = None) -> str:
    """SerializeValueForHash (serialize.go)."""
    if value is None:
        return ";"
    if kind == BOOL:
        text = "1" if value else "0"
    elif kind == INT:
        text = str(int(value))
    elif kind == STRING:
        text = str(value)
    elif kind in (LIST, SET):
        members = "".join(_member(elem, item) for item in (value if kind == LIST else ordered_elements(elem, value)))
        text = ("(" + members + ")") if kind == LIST else ("{" + members + "}")
    elif kind == MAP:
        text = "[" + "".join(f"{k}:{v};" for k, v in sorted(value.items()) if v is not None) + "]"
    else:
        raise ValueError(kind)
    return text + ";"


def _member(elem: Any, value: Any) -> str:
    if isinstance(elem, Block):
        return "<" + serialize_block(elem, value) + ">;"
    return _serialize_value(elem, value)


def serialize_block(block: Block, value: dict) -> str:
    """SerializeResourceForHash: keys sorted by Terraform name, computed-only ones skipped."""
    if value is None:
        return ""
    all_computed = not any(a.optional or a.required for a in block.attrs)
    out = []
    for attr in sorted(block.attrs, key=lambda a: a.tf):
        if not all_computed and not (attr.required or attr.optional):
            continue
        inner = value.get(attr.name)
        if attr.kind in (LIST, SET) and inner is not None:
            inner = as_list(attr, inner)
        out.append(f"{attr.tf}:" + _serialize_value(attr.kind, inner, attr.elem))
    return "".join(out)


def code(attr_or_elem: Any, value: Any, hash_string: bool = False) -> int:
    """An element's set code (hashcode.String: crc32 as a non-negative int)."""
    if hash_string:
        text = str(value)
    elif isinstance(attr_or_elem, Block):
        text = serialize_block(attr_or_elem, value)
    else:
        text = _serialize_value(attr_or_elem, value)
    return zlib.crc32(text.encode())


def ordered_elements(elem: Any, values: list, hash_string: bool = False) -> list:
    """Set.List(): unique by code, sorted by the code's decimal string."""
    by_code: dict[str, Any] = {}
    for value in values or []:
        by_code.setdefault(str(code(elem, value, hash_string)), value)
    return [by_code[k] for k in sorted(by_code)]


def ordered(attr: Attr, values: list | None) -> list:
    return ordered_elements(attr.elem, list(values or []), attr.hash_string)


def _cty_bytes(elem: Any, value: Any) -> str:
    """go-cty's appendSetHashBytes (cty/set_internals.go:140-240): how a state's set of objects is ordered."""
    if value is None:
        return "~"
    if isinstance(elem, Block):
        parts = []
        for attr in sorted(elem.attrs, key=lambda a: a.tf):
            inner = value.get(attr.name)
            if attr.kind in (LIST, SET):
                items = as_list(attr, inner) if inner is not None else None
                parts.append("~" if items is None else "[" + "".join(_cty_bytes(attr.elem, i) + ";" for i in items) + "]")
            elif attr.kind == MAP:
                parts.append("~" if inner is None else "{" + "".join(f'"{k}":"{v}";' for k, v in sorted(inner.items())) + "}")
            else:
                parts.append(_cty_bytes(attr.kind, inner))
        return "<" + "".join(p + ";" for p in parts) + ">"
    if elem == BOOL:
        return "T" if value else "F"
    if elem == STRING:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def state_order(attr: Attr, values: list) -> list:
    """The order a set has in state and outputs: go-cty's set order (set_internals.go:81-131):
    strings lexically, numbers by value, other values by their hash bytes."""
    if attr.elem == STRING:
        return sorted(values, key=lambda v: str(v).encode())
    if attr.elem == INT:
        return sorted(values)
    return sorted(values, key=lambda v: _cty_bytes(attr.elem, v).encode())
