"""What an evaluation of the offline engine leaves: one record per resource and the deployment
(resources, outputs, warnings), plus the helpers that read engine values. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc


@dataclass
class ResourceRecord:
    urn: str
    type: str
    name: str
    id: str
    inputs: dict
    outputs: dict
    operation: str  # create | update | replace | same | read
    custom: bool = True
    parent: str = ""
    secret_outputs: tuple = ()
    secret_inputs: tuple = ()
    hooks: dict = field(default_factory=dict)
    hook_calls: list = field(default_factory=list)  # (kind, hook name, the hook's error or "")
    dependencies: tuple = ()  # URNs the engine waits for before this step (depends_on and inputs)


@dataclass
class Deployment:
    resources: dict  # urn -> ResourceRecord, in registration order
    outputs: dict
    secret_outputs: frozenset
    deleted: list
    invokes: list
    warnings: list
    applications: dict = field(default_factory=dict)  # the tenant's apps after the run: objectId -> info

    def of_type(self, token: str) -> list:
        return [r for r in self.resources.values() if r.type == token]

    def named(self, name: str) -> ResourceRecord:
        found = [r for r in self.resources.values() if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]

    def changes(self) -> list:
        steps = [(r.operation, r.urn) for r in self.resources.values() if r.operation not in ("same", "read")]
        return steps + [("delete", r.urn) for r in self.deleted]


def _unwrap(value: Any) -> tuple[Any, bool]:
    """(plain value, whether any part was secret)."""
    if rpc.is_rpc_secret(value):
        inner, _ = _unwrap(rpc.unwrap_rpc_secret(value))
        return inner, True
    if isinstance(value, dict):
        secret = False
        plain = {}
        for k, v in value.items():
            plain[k], s = _unwrap(v)
            secret = secret or s
        return plain, secret
    if isinstance(value, list):
        items = [_unwrap(v) for v in value]
        return [i[0] for i in items], any(i[1] for i in items)
    return value, False


def _from_wire(value: Any) -> Any:
    """A value of a google.protobuf.Struct as plain Python, with the nulls inside it: the engine
    keeps them, where rpc.deserialize_properties drops them. Secrets stay wrapped (_unwrap)."""
    if isinstance(value, struct_pb2.Struct):
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_from_wire(v) for v in value]
    return value


def _has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    from pulumi.output import Unknown

    return isinstance(value, Unknown) or value == rpc.UNKNOWN
