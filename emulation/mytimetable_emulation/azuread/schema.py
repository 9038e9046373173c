"""The upstream resources' schemas as data (terraform-plugin-sdk/v2 `schema.Schema`), with the Pulumi
names pulumi-azuread 6.11.1 gives them (provider/cmd/pulumi-resource-azuread/schema.json and
bridge-metadata.json: MaxItems=1 blocks flattened to one object, list and set names pluralised).

Values travel in Pulumi's shape (camelCase keys, a MaxItems=1 block as an object); the schema knows
each attribute's Terraform name for error texts (`web.0.redirect_uris.0`) and Pulumi paths
(`web.redirectUris[0]`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value known only after apply

STRING, BOOL, INT, LIST, SET, MAP = "string", "bool", "int", "list", "set", "map"


@dataclass(frozen=True)
class Attr:
    """One attribute: `kind` and flags as in the Go schema; `elem` a scalar kind or a Block."""

    tf: str
    kind: str
    required: bool = False
    optional: bool = False
    computed: bool = False
    force_new: bool = False
    default: Any = None
    sensitive: bool = False
    deprecated: str = ""
    max_items: int = 0
    min_items: int = 0
    elem: Any = None  # STRING/BOOL/INT for collections of scalars, or a Block
    validate: tuple = ()  # functions (value, key) -> list of error texts
    validate_diag: tuple = ()  # functions (value) -> list of summaries (ValidateDiagFunc)
    conflicts_with: tuple = ()
    exactly_one_of: tuple = ()
    elem_validate: tuple = ()  # validators of a collection's scalar elements
    pulumi: str = ""  # the Pulumi name when it is not the plain camelCase of `tf`
    hash_string: bool = False  # `Set: pluginsdk.HashString` (else the SDK's HashSchema/HashResource)

    @property
    def name(self) -> str:
        return self.pulumi or camel(self.tf)

    @property
    def block(self) -> Block | None:
        return self.elem if isinstance(self.elem, Block) else None

    @property
    def max_items_one(self) -> bool:
        """The bridge flattens a MaxItems=1 list or set of blocks (or scalars) into one value."""
        return self.kind in (LIST, SET) and self.max_items == 1


@dataclass(frozen=True)
class Block:
    attrs: tuple[Attr, ...]
    by_name: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({a.name: a for a in self.attrs})

    def get(self, name: str) -> Attr | None:
        return self.by_name.get(name)


def camel(tf_name: str) -> str:
    head, *rest = tf_name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def is_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return value == UNKNOWN


def zero(attr: Attr) -> Any:
    """The value `d.Get` returns for an unset attribute (schema.Type.Zero)."""
    return {STRING: "", BOOL: False, INT: 0, LIST: [], SET: [], MAP: {}}[attr.kind]


def as_list(attr: Attr, value: Any) -> list:
    """A collection value as Terraform's list: a flattened MaxItems=1 block is a list of one."""
    if value is None:
        return []
    if attr.max_items_one and not isinstance(value, list):
        return [value]
    return list(value)


def from_list(attr: Attr, items: list) -> Any:
    """Terraform's list back in Pulumi's shape: a MaxItems=1 block is its one element or null."""
    if attr.max_items_one:
        return items[0] if items else None
    return items


def pulumi_path(block: Block, tf_path: str) -> str:
    """`web.0.redirect_uris.1` -> `web.redirectUris` (the bridge's CheckFailurePath,
    pkg/tfbridge/check_failures.go): camelCase names, a MaxItems=1 index dropped, a list index as
    `[i]`, and the path ends at a set (its elements have no stable index)."""
    parts = tf_path.split(".")
    out = ""
    current: Block | None = block
    attr: Attr | None = None
    i = 0
    while i < len(parts):
        part = parts[i]
        if re.fullmatch(r"\d+", part) and attr is not None:
            if attr.kind == SET and not attr.max_items_one:
                break  # a set element has no stable index: the path ends at the set
            if not attr.max_items_one:
                out += f"[{part}]"
            current = attr.block
            i += 1
            continue
        found = next((a for a in current.attrs if a.tf == part), None) if current else None
        name = found.name if found else camel(part)
        out += ("." if out else "") + name
        attr = found
        i += 1
    return out


def tf_name_of(block: Block, pulumi_name: str) -> str:
    attr = block.get(pulumi_name)
    return attr.tf if attr else pulumi_name


def walk_defaults(block: Block, value: dict) -> dict:
    """The bridge's Check result (pkg/tfbridge/schema.go:892-990): absent Optional attributes with a
    non-falsy Default are added (not deprecated ones, not ones conflicting with a set attribute),
    and every object, nested ones included, gets `__defaults` naming what was added there."""
    result = {k: v for k, v in value.items() if k != "__defaults"}
    added: list[str] = []
    conflicting = {other for attr in block.attrs if result.get(attr.name) is not None for other in attr.conflicts_with}
    for attr in block.attrs:
        present = result.get(attr.name) is not None
        if not present:
            if (attr.default not in (None, False, 0, "") and not attr.deprecated and (attr.optional or attr.required)
                    and attr.tf not in conflicting):
                result[attr.name] = attr.default
                added.append(attr.name)
            continue
        sub = attr.block
        if sub is None or (not isinstance(result[attr.name], (list, dict)) and result[attr.name] == UNKNOWN):
            continue
        items = [walk_defaults(sub, item) if isinstance(item, dict) else item for item in as_list(attr, result[attr.name])]
        result[attr.name] = from_list(attr, items)
    result["__defaults"] = sorted(added)
    return result


def check_value_type(attr: Attr, value: Any) -> bool:
    """Values the bridge can convert at all (the engine sends what the SDK's types allow)."""
    if value is None or value == UNKNOWN:
        return True
    if attr.kind == STRING:
        return isinstance(value, str)
    if attr.kind == BOOL:
        return isinstance(value, bool)
    if attr.kind == INT:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if attr.kind == MAP:
        return isinstance(value, dict)
    return isinstance(value, (list, dict)) if attr.max_items_one else isinstance(value, list)


Validator = Callable[[Any, str], list]
