"""What the upstream resource functions see of terraform-plugin-sdk: ResourceData (`d.Get`,
`d.GetOk`, `d.Set`, `d.HasChange`, `d.SetId`), diagnostics (internal/helpers/tf/errors.go), the
provider's configured client (`meta.(*clients.Client)`) and its per-name locks
(internal/helpers/tf/locks.go:53-63)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from .check import Diagnostic
from .clock import Operation
from .schema import LIST, SET, UNKNOWN, Block, is_unknown, zero
from .sdk import GraphClient


class Diags(Exception):
    """A resource function returned error diagnostics (it stops where upstream `return`s)."""

    def __init__(self, *diagnostics: Diagnostic):
        super().__init__("; ".join(d.text() for d in diagnostics))
        self.diagnostics = list(diagnostics)


def error_diag(err: Any, summary: str, path: str = "") -> Diags:
    """tf.ErrorDiagPathF(err, attr, summary): Summary the formatted text, Detail err.Error()."""
    return Diags(Diagnostic(summary, "" if err is None else str(err), path))


def import_as_exists(resource: str, object_id: str) -> Diags:
    """tf.ImportAsExistsDiag (internal/helpers/tf/errors.go:53-60)."""
    return Diags(Diagnostic(f"A resource with the ID {json.dumps(object_id)} already exists",
                            "To be managed via Terraform, this resource needs to be imported into the State. Please see the "
                            f"resource documentation for {json.dumps(resource)} for more information.", "id"))


def import_as_duplicate(resource: str, object_id: str, name: str) -> Diags:
    """tf.ImportAsDuplicateDiag (internal/helpers/tf/errors.go:44-51)."""
    return Diags(Diagnostic(f"An existing {json.dumps(resource)} with name {json.dumps(name, ensure_ascii=False)} "
                            f"(ID: {json.dumps(object_id)}) was found and `prevent_duplicate_names` was specified",
                            "To be managed via Terraform, this resource needs to be imported into the State. Please see the "
                            f"resource documentation for {json.dumps(resource)} for more information.", "id"))


class NamedLocks:
    """tf.LockByName / UnlockByName: one mutex per (resource type, name) in the plugin process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def get(self, kind: str, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((kind, name), threading.Lock())


@dataclass
class Meta:
    """The configured provider: Graph clients, the token's tenant, client and caller object IDs."""

    graph: GraphClient
    tenant_id: str
    client_id: str
    object_id: str
    locks: NamedLocks = field(default_factory=NamedLocks)


@dataclass
class ResourceData:
    """One resource's data during an operation: `values` Pulumi-shaped (planned values on create and
    update, the state on read and delete), `prior` the state before, `id` the Terraform ID."""

    block: Block
    values: dict
    op: Operation
    id: str = ""
    prior: dict | None = None

    def get(self, name: str) -> Any:
        """d.Get: the value, or the attribute's zero value when unset or unknown."""
        attr = self.block.get(name)
        value = self.values.get(name)
        if attr is None:
            return value
        if value is None or (not isinstance(value, (list, dict)) and value == UNKNOWN):
            return zero(attr)
        if attr.kind in (LIST, SET) and attr.max_items_one and not isinstance(value, list):
            return [value]
        return value

    def get_ok(self, name: str) -> tuple[Any, bool]:
        """d.GetOk: ok when set to a non-zero value."""
        value = self.get(name)
        attr = self.block.get(name)
        return value, bool(attr is not None and value != zero(attr) and not is_unknown(value))

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value

    def has_change(self, name: str) -> bool:
        """d.HasChange: the prior state's value differs from the planned one (sets compared as sets)."""
        before = (self.prior or {}).get(name)
        after = self.values.get(name)
        attr = self.block.get(name)
        if attr is not None and attr.kind == SET and not attr.max_items_one:
            return _as_set(before) != _as_set(after)
        return _canonical(before, attr) != _canonical(after, attr)


def _as_set(value: Any) -> set:
    return {json.dumps(v, sort_keys=True) for v in (value or [])}


def _canonical(value: Any, attr) -> Any:
    if value is None and attr is not None:
        return zero(attr) if not attr.max_items_one else None
    return value
