"""A stack's state as the leftovers check reads it: `pulumi stack export` (version 3 deployments,
pulumi/pulumi sdk/go/common/apitype/core.go DeploymentV3: `resources`, `pending_operations`), and
the object IDs the azuread resources record in it. Pure.

State IDs, as terraform-provider-azuread v3.9.0 sets them (see docs/real-engine.md):
`/applications/{id}`, `/servicePrincipals/{id}`, `/servicePrincipals/{resource}/appRoleAssignedTo/{id}`,
`/oauth2PermissionGrants/{id}`, `{applicationObjectId}/certificate/{keyId}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .declarations import INTEGRATION_TYPE

CREATING = "creating"  # a pending operation the CLI keeps until a refresh clears it (backend/snapshot.go)


class StateError(Exception):
    """`pulumi stack export` gave something that is not a deployment."""


@dataclass(frozen=True)
class StateResource:
    urn: str
    type: str
    name: str
    id: str = ""
    parent: str = ""
    outputs: Mapping[str, Any] = field(default_factory=dict)

    def last_segment(self) -> str:
        """The object's own ID: the last path segment of the state ID (`/applications/<id>` -> <id>)."""
        return self.id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PendingOperation:
    urn: str
    type: str  # the resource's type token
    operation: str  # creating, updating, deleting, reading, importing


@dataclass(frozen=True)
class StackState:
    resources: tuple[StateResource, ...] = ()
    pending: tuple[PendingOperation, ...] = ()

    def named(self, type_token: str, name: str) -> StateResource | None:
        return next((r for r in self.resources if r.type == type_token and r.name == name), None)

    def of_type(self, type_token: str) -> tuple[StateResource, ...]:
        return tuple(r for r in self.resources if r.type == type_token)

    def integrations(self) -> tuple[StateResource, ...]:
        return self.of_type(INTEGRATION_TYPE)

    def children_of(self, parent_urn: str, type_token: str) -> tuple[StateResource, ...]:
        return tuple(r for r in self.resources if r.parent == parent_urn and r.type == type_token)

    @property
    def pending_creates(self) -> tuple[PendingOperation, ...]:
        return tuple(p for p in self.pending if p.operation == CREATING)


def urn_name(urn: str) -> str:
    """A URN's logical name: `urn:pulumi:<stack>::<project>::<type>::<name>` (sdk/go/common/resource/urn.go)."""
    return urn.split("::", 3)[-1] if urn.count("::") >= 3 else ""


def urn_type(urn: str) -> str:
    """A URN's own type (the last `$`-separated part of its qualified type)."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _listed(deployment: Mapping, name: str) -> list:
    """`deployment.<name>`: a list in DeploymentV3 (`resources []ResourceV3`, `pending_operations
    []OperationV2`), absent or null when empty; anything else is no deployment (StateError)."""
    value = deployment.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise StateError(f"`{name}` is not a list (a {type(value).__name__})")
    return value


def stack_state(export: Any) -> StackState:
    """The resources and pending operations of `pulumi stack export`'s JSON (already parsed)."""
    if not isinstance(export, Mapping) or not isinstance(export.get("deployment", {}), Mapping):
        raise StateError("not a stack export (no `deployment` object)")
    deployment = export.get("deployment") or {}
    resources = []
    for item in _listed(deployment, "resources"):
        if not isinstance(item, Mapping) or not isinstance(item.get("urn"), str):
            raise StateError("a resource without a URN")
        outputs = item.get("outputs")
        resources.append(StateResource(urn=item["urn"], type=str(item.get("type") or urn_type(item["urn"])),
                                       name=urn_name(item["urn"]), id=str(item.get("id") or ""),
                                       parent=str(item.get("parent") or ""),
                                       outputs=outputs if isinstance(outputs, Mapping) else {}))
    pending = []
    for op in _listed(deployment, "pending_operations"):
        resource = op.get("resource") if isinstance(op, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("urn"), str):
            raise StateError("a pending operation without a resource URN")
        pending.append(PendingOperation(resource["urn"], str(resource.get("type") or urn_type(resource["urn"])),
                                        str(op.get("type") or "")))
    return StackState(tuple(resources), tuple(pending))


def plain_output(value: Any) -> Any:
    """An output as `stack export` shows it without --show-secrets: a secret stays a marker dict,
    which is no plain value (None)."""
    if isinstance(value, Mapping):
        return None
    return value
