"""The five azuread resources and two data sources this program uses, as the project's azuread
provider implements them against Graph: the calls, IDs and outputs of terraform-provider-azuread
v3 (which pulumi-azuread 6.x wraps), as `docs/real-engine.md` lists them.

What follows the upstream provider (its source, internal/services/...):
- IDs: `/applications/{id}`, `/servicePrincipals/{id}`,
  `/servicePrincipals/{resource}/appRoleAssignedTo/{id}`, `/oauth2PermissionGrants/{id}`,
  `{applicationObjectId}/certificate/{keyId}`.
- Creates make the caller an owner, then add the configured owners and remove the caller unless
  listed (applicationResourceCreate, servicePrincipalResourceCreate).
- After a create it polls the new object until Graph finds it; when it never does, it fails AFTER
  the write with the new ID (a partial failure, as the bridge reports it: ErrorResourceInitFailed).
- `prevent_duplicate_names` is checked at plan time too (CustomizeDiff), so preview fails.
- `use_existing` adopts a service principal that already exists for the client ID.
- Certificates are written by PATCHing the application's whole keyCredentials list; a keyId
  that already exists is refused ("already exists ... imported").
- Every argument of app role assignments and certificates is ForceNew; so are a service
  principal's client ID and a delegated grant's principals.
What differs, and why: polling is short (a few tries, fractions of a second) to keep test runs
quick; a delete checks once that the object is gone instead of polling for 20 s.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from .graph_client import GraphCallError, GraphClient

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value known only after apply
POLLS = int(os.environ.get("LOCAL_ENTRA_PROVIDER_POLLS", "3"))
POLL_SECONDS = 0.2


class ProviderError(Exception):
    """An operation failed; nothing was written."""


class PartialFailure(Exception):
    """The object was written, then the operation failed: the engine must record `object_id`."""

    def __init__(self, object_id: str, outputs: dict, reason: str):
        super().__init__(reason)
        self.object_id, self.outputs, self.reason = object_id, outputs, reason


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items()) if v not in (None, [], {}, "")}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True).lower())
    if isinstance(value, str):
        return value.lower() if len(value) == 36 and value.count("-") == 4 else value
    return value


def _subset(news: Any, olds: Any) -> bool:
    """Do the declared inputs `news` match what exists (`olds`)? Dicts compare only the keys declared."""
    if isinstance(news, dict) and isinstance(olds, dict):
        return all(_subset(v, olds.get(k)) for k, v in news.items() if v not in (None, [], {}, "") or olds.get(k))
    return _canonical(news) == _canonical(olds)


def has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return value == UNKNOWN


def _wait_until_found(read):
    last: GraphCallError | None = None
    for attempt in range(POLLS):
        try:
            return read()
        except GraphCallError as error:
            if error.status != 404:
                raise
            last = error
            time.sleep(POLL_SECONDS * (attempt + 1))
    assert last is not None
    raise last


class Resource:
    force_new: tuple[str, ...] = ()
    computed: tuple[str, ...] = ()

    def __init__(self, graph: GraphClient):
        self.g = graph

    def _outputs(self, found: dict, *context) -> dict:
        raise NotImplementedError

    def _create_and_confirm(self, collection: str, body: dict, id_of, what: str) -> tuple[str, dict]:
        """POST (retried while a principal it names replicates), then read it back as the provider
        does; when Graph never shows it, a partial failure that carries the new ID."""
        made = _wait_until_found(lambda: self.g.call("POST", collection, body))
        resource_id = id_of(made)
        try:
            _wait_until_found(lambda: self.g.call("GET", resource_id))
        except GraphCallError as error:
            raise PartialFailure(resource_id, self._outputs(made), f"waiting for {what}: {error}") from None
        return resource_id, self._outputs(made)

    def _get_or_none(self, path: str) -> dict | None:
        """The object at `path`, or None when Graph answers 404 (gone: a refresh drops it)."""
        try:
            return self.g.call("GET", path)
        except GraphCallError as error:
            if error.status == 404:
                return None
            raise

    def check(self, news: dict) -> list[tuple[str, str]]:
        return []

    def diff(self, object_id: str, olds: dict, news: dict, old_inputs: dict) -> tuple[list, list]:
        changed = [k for k, v in news.items() if (has_unknown(v) and k in olds) or not _subset(v, olds.get(k))]
        changed += [k for k in old_inputs if k not in news and olds.get(k) not in (None, [], {}, "", False)]
        replaces = [k for k in changed if k in self.force_new]
        return sorted(set(changed)), sorted(set(replaces))

    def preview(self, news: dict) -> dict:
        return {**news, **{k: UNKNOWN for k in self.computed}}

    def _owners(self, collection: str, object_id: str, wanted: list[str], caller: str) -> None:
        """Add the wanted owners first, then remove the caller when not wanted (never leave none)."""
        have = {o["id"] for o in self.g.call("GET", f"/{collection}/{object_id}/owners")["value"]}
        wanted_set = {o.lower() for o in wanted} or {caller}
        for owner in sorted(wanted_set - have):
            self.g.call("POST", f"/{collection}/{object_id}/owners/$ref", self.g.reference(owner))
        for owner in sorted(have - wanted_set):
            self.g.call("DELETE", f"/{collection}/{object_id}/owners/{owner}/$ref")

    def _owner_ids(self, collection: str, object_id: str) -> list[str]:
        return sorted(o["id"] for o in self.g.call("GET", f"/{collection}/{object_id}/owners")["value"])


class Application(Resource):
    computed = ("clientId", "objectId", "publisherDomain")

    def _duplicate(self, news: dict, object_id: str = "") -> str | None:
        if not news.get("preventDuplicateNames") or has_unknown(news.get("displayName")):
            return None
        found = [a for a in self.g.find("applications", "displayName", news["displayName"]) if a["id"] != object_id]
        if found:
            return (f"An existing Application with the display name \"{news['displayName']}\" was found (object ID "
                    f"{found[0]['id']}) and `prevent_duplicate_names` was specified")
        return None

    def _body(self, news: dict) -> dict:
        return {"displayName": news.get("displayName", ""), "signInAudience": news.get("signInAudience", "AzureADMyOrg"),
                "web": {"redirectUris": (news.get("web") or {}).get("redirectUris", [])},
                "requiredResourceAccess": [
                    {"resourceAppId": r["resourceAppId"],
                     "resourceAccess": [{"id": a["id"], "type": a["type"]} for a in r.get("resourceAccesses", [])]}
                    for r in news.get("requiredResourceAccesses", [])]}

    def preview(self, news: dict) -> dict:
        duplicate = self._duplicate(news)
        if duplicate:
            raise ProviderError(duplicate)
        return super().preview(news)

    def create(self, news: dict) -> tuple[str, dict]:
        duplicate = self._duplicate(news)
        if duplicate:
            raise ProviderError(duplicate)
        caller = self.g.claims()["oid"]
        app = self.g.call("POST", "/applications", {**self._body(news), "owners@odata.bind": [self.g.reference(caller)["@odata.id"]]})
        object_id = app["id"]
        try:
            _wait_until_found(lambda: self.g.call("GET", f"/applications/{object_id}"))
            self._owners("applications", object_id, news.get("owners") or [], caller)
        except GraphCallError as error:
            raise PartialFailure(f"/applications/{object_id}", self._outputs(app, news.get("owners") or [caller], news),
                                 f"creating application: {error}") from None
        return f"/applications/{object_id}", self.read(f"/applications/{object_id}", news) or {}

    def _outputs(self, app: dict, owners: list, inputs: dict) -> dict:
        return {"objectId": app["id"], "clientId": app["appId"], "displayName": app["displayName"],
                "signInAudience": app["signInAudience"], "publisherDomain": app.get("publisherDomain", ""),
                "web": {"redirectUris": app.get("web", {}).get("redirectUris", []), "implicitGrant": {}},
                "requiredResourceAccesses": [
                    {"resourceAppId": r["resourceAppId"],
                     "resourceAccesses": [{"id": a["id"], "type": a["type"]} for a in r.get("resourceAccess", [])]}
                    for r in app.get("requiredResourceAccess", [])],
                "owners": sorted(owners), "preventDuplicateNames": bool(inputs.get("preventDuplicateNames", False))}

    def read(self, resource_id: str, inputs: dict) -> dict | None:
        return _read_owned(self, "applications", resource_id, inputs)

    def update(self, resource_id: str, olds: dict, news: dict) -> dict:
        object_id = resource_id.rsplit("/", 1)[-1]
        duplicate = self._duplicate(news, object_id)
        if duplicate:
            raise ProviderError(duplicate)
        self.g.call("PATCH", f"/applications/{object_id}", self._body(news))
        self._owners("applications", object_id, news.get("owners") or [], self.g.claims()["oid"])
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: dict) -> None:
        _delete(self.g, f"/applications/{resource_id.rsplit('/', 1)[-1]}")


def _read_owned(resource, collection: str, resource_id: str, inputs: dict) -> dict | None:
    """An application's or service principal's outputs with its owners, or None when it is gone."""
    object_id = resource_id.rsplit("/", 1)[-1]
    found = resource._get_or_none(f"/{collection}/{object_id}")
    return None if found is None else resource._outputs(found, resource._owner_ids(collection, object_id), inputs)


def _delete(graph: GraphClient, path: str) -> None:
    try:
        graph.call("DELETE", path)
    except GraphCallError as error:
        if error.status != 404:
            raise


class ServicePrincipal(Resource):
    force_new = ("clientId",)
    computed = ("objectId", "displayName", "appRoleIds", "oauth2PermissionScopeIds")

    def create(self, news: dict) -> tuple[str, dict]:
        caller = self.g.claims()["oid"]
        existing = self.g.find("servicePrincipals", "appId", news["clientId"]) if news.get("useExisting") else []
        if existing:
            sp = existing[0]
            self.g.call("PATCH", f"/servicePrincipals/{sp['id']}", {"appRoleAssignmentRequired": bool(news.get("appRoleAssignmentRequired"))})
        else:
            try:
                sp = self.g.call("POST", "/servicePrincipals", {"appId": news["clientId"],
                                 "appRoleAssignmentRequired": bool(news.get("appRoleAssignmentRequired")),
                                 "owners@odata.bind": [self.g.reference(caller)["@odata.id"]]})
            except GraphCallError as error:
                if error.code == "Request_MultipleObjectsWithSameKeyValue":
                    raise ProviderError(f"A service principal for client ID {news['clientId']} already exists. To be managed "
                                        "via Pulumi, this resource needs to be imported into the State, or set "
                                        "`use_existing`. ({error})") from None
                raise
        resource_id = f"/servicePrincipals/{sp['id']}"
        try:
            _wait_until_found(lambda: self.g.call("GET", f"/servicePrincipals/{sp['id']}"))
            self._owners("servicePrincipals", sp["id"], news.get("owners") or [], caller)
        except GraphCallError as error:
            raise PartialFailure(resource_id, self._outputs(sp, news.get("owners") or [caller], news),
                                 f"Could not create service principal: {error}") from None
        return resource_id, self.read(resource_id, news) or {}

    def _outputs(self, sp: dict, owners: list, inputs: dict) -> dict:
        return {"objectId": sp["id"], "clientId": sp["appId"], "displayName": sp.get("displayName", ""),
                "appRoleAssignmentRequired": bool(sp.get("appRoleAssignmentRequired")), "owners": sorted(owners),
                "appRoleIds": {r["value"]: r["id"] for r in sp.get("appRoles", [])},
                "oauth2PermissionScopeIds": {s["value"]: s["id"] for s in sp.get("oauth2PermissionScopes", [])},
                "useExisting": bool(inputs.get("useExisting", False)), "type": sp.get("servicePrincipalType", "Application")}

    def read(self, resource_id: str, inputs: dict) -> dict | None:
        return _read_owned(self, "servicePrincipals", resource_id, inputs)

    def update(self, resource_id: str, olds: dict, news: dict) -> dict:
        object_id = resource_id.rsplit("/", 1)[-1]
        self.g.call("PATCH", f"/servicePrincipals/{object_id}", {"appRoleAssignmentRequired": bool(news.get("appRoleAssignmentRequired"))})
        self._owners("servicePrincipals", object_id, news.get("owners") or [], self.g.claims()["oid"])
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: dict) -> None:
        _delete(self.g, f"/servicePrincipals/{resource_id.rsplit('/', 1)[-1]}")


class AppRoleAssignment(Resource):
    force_new = ("appRoleId", "principalObjectId", "resourceObjectId")
    computed = ("principalDisplayName", "principalType", "resourceDisplayName")

    def create(self, news: dict) -> tuple[str, dict]:
        resource = news["resourceObjectId"]
        body = {"appRoleId": news["appRoleId"], "principalId": news["principalObjectId"], "resourceId": resource}
        # The provider retries the POST while Graph answers 404 for a principal that is replicating.
        return self._create_and_confirm(f"/servicePrincipals/{resource}/appRoleAssignedTo", body,
                                        lambda made: f"/servicePrincipals/{resource}/appRoleAssignedTo/{made['id']}",
                                        "the app role assignment")

    def _outputs(self, a: dict) -> dict:
        return {"appRoleId": a["appRoleId"], "principalObjectId": a["principalId"], "resourceObjectId": a["resourceId"],
                "principalDisplayName": a.get("principalDisplayName", ""), "principalType": a.get("principalType", ""),
                "resourceDisplayName": a.get("resourceDisplayName", "")}

    def read(self, resource_id: str, inputs: dict) -> dict | None:
        found = self._get_or_none(resource_id)
        return None if found is None else self._outputs(found)

    def update(self, resource_id, olds, news):
        return self.read(resource_id, news) or olds

    def delete(self, resource_id: str, olds: dict) -> None:
        _delete(self.g, resource_id)


class DelegatedPermissionGrant(Resource):
    force_new = ("resourceServicePrincipalObjectId", "servicePrincipalObjectId", "userObjectId")

    def create(self, news: dict) -> tuple[str, dict]:
        body = {"clientId": news["servicePrincipalObjectId"], "resourceId": news["resourceServicePrincipalObjectId"],
                "scope": " ".join(news.get("claimValues", [])), "consentType": "AllPrincipals"}
        return self._create_and_confirm("/oauth2PermissionGrants", body, lambda made: f"/oauth2PermissionGrants/{made['id']}",
                                        "the delegated permission grant")

    def _outputs(self, grant: dict) -> dict:
        return {"claimValues": sorted(grant["scope"].split()), "resourceServicePrincipalObjectId": grant["resourceId"],
                "servicePrincipalObjectId": grant["clientId"]}

    def read(self, resource_id: str, inputs: dict) -> dict | None:
        found = self._get_or_none(resource_id)
        return None if found is None else self._outputs(found)

    def update(self, resource_id: str, olds: dict, news: dict) -> dict:
        self.g.call("PATCH", resource_id, {"scope": " ".join(news.get("claimValues", []))})
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: dict) -> None:
        _delete(self.g, resource_id)
