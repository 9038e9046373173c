"""An engine emulator: runs the real program under Pulumi's mock monitor, with mocks that act
like the Pulumi engine, the azuread provider and an Entra tenant.

- azuread resources get realistic identities: `Application.id` is `/applications/<objectId>`
  and differs from `client_id` and `object_id`; a service principal's id is
  `/servicePrincipals/<objectId>`; a certificate's `<objectId>/certificate/<keyId>`; certificates
  are checked as Entra checks them. Placeholder IDs are derived from the URN: stable run to run.
- invokes answer getClientConfig, getApplicationPublishedAppIds and getServicePrincipal, the
  latter with Microsoft's real app-role and scope ID maps for Graph and Exchange Online.
- the deploying identity (a service principal with Graph application permissions, or a user with
  directory roles) is refused every step that rules.access does not allow it, as a tenant would;
  owners follow the azuread provider (the caller is an owner while it creates, then removed unless
  listed), and Application.ReadWrite.OwnedBy works only on what the caller owns.
- dynamic providers are executed: `__provider` is deserialised and check/create run, or
  diff/update against the prior state that a previous evaluation left (`prior=`).
- resource hooks and error hooks are registered (a name only once, as the engine insists) and
  called after creates/updates and on failed creates through the SDK's own callback server, over
  gRPC, with arguments marshalled as the engine marshals them.
- outputs named in `additional_secret_outputs` come back secret, as the engine returns them.
- resources that an evaluation no longer declares are reported as deletes.

Used by the tests and by `mytimetable-o365 plan`; no Pulumi CLI, no cloud.
"""

from __future__ import annotations

import base64
import runpy
import uuid
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import pulumi
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from ..rules import access

PROJECT = "mytimetable-o365"
TENANT_ID = "0e3f5a2c-7d41-4b9e-8c1a-5f0d2b6e9a73"  # a placeholder, no real tenant
DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEPLOYER_OBJECT_ID = "5f1a5c30-3d6c-4b5b-9a44-6a1b2f0c9e11"
PLACEHOLDER_NAMESPACE = uuid.UUID("8b1f6c1e-2a4d-4c55-9a43-6d1b5e0f7a21")

# Microsoft's service principals as the tenant shows them (subset of their maps, real IDs).
# Sources: Microsoft Graph permissions reference (https://learn.microsoft.com/graph/permissions-reference);
# Exchange Online's app roles and scopes as CISA ScubaGear lists them
# (PowerShell/ScubaGear/schemas/RiskyAppPermissions.json). Only IDs with a public source: an ID
# that a review found on a tenant but no public table lists (a Graph role named
# Calendars.ReadWrite.All) is left out.
GRAPH_APP_ROLES = {
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.ReadBasic.All": "8ba4a692-bc31-4128-9094-475872af8a53",
    "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
}
GRAPH_SCOPES = {
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
    "Calendars.Read.Shared": "2b9c4092-424d-4249-948d-b43879977640",
    "Calendars.ReadBasic": "662d75ba-a364-42ad-adee-f5f880ea4878",
    "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    "Calendars.ReadWrite.Shared": "12466101-c9b8-439a-8589-dd09ee67e8e9",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
}
EXCHANGE_APP_ROLES = {
    "full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.Read.All": "2dfdc6dc-2fa7-4a2c-a922-dbd4f85d17be",
    "Calendars.ReadWrite.All": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "User.Read.All": "bf24470f-10c1-436d-8d53-7b997eb473be",
}
EXCHANGE_SCOPES = {
    # CISA ScubaGear, PowerShell/ScubaGear/schemas/RiskyAppPermissions.json, "Office 365 Exchange
    # Online" > "Delegated" (read at commits 98d0e33 and 5916157): Calendars.Read 5b9be81f-...,
    # EWS.AccessAsUser.All 3b5f3d61-.... (465a38f9-... is Graph's delegated Calendars.Read there.)
    "Calendars.Read": "5b9be81f-2977-4d27-8faf-bb43af8fc705",
    "EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
}
MICROSOFT_SERVICE_PRINCIPALS = {
    "00000003-0000-0000-c000-000000000000": ("Microsoft Graph", "2b3c6e1a-0f0e-4c59-9d52-5e0b4bb6a1f1", GRAPH_APP_ROLES, GRAPH_SCOPES),
    "00000002-0000-0ff1-ce00-000000000000": ("Office 365 Exchange Online", "8c1a4d7e-25f3-4b8e-bb61-0f6b3c2de7a9",
                                             EXCHANGE_APP_ROLES, EXCHANGE_SCOPES),
}
PUBLISHED_APP_IDS = {"MicrosoftGraph": "00000003-0000-0000-c000-000000000000", "Office365ExchangeOnline": "00000002-0000-0ff1-ce00-000000000000"}

# Inputs whose change makes the azuread provider replace the resource (its schema's ForceNew).
# Inputs whose change makes the azuread provider replace the resource (its schema's ForceNew;
# terraform-provider-azuread v3: every argument of azuread_application_certificate is ForceNew).
FORCE_NEW = {
    "azuread:index/servicePrincipal:ServicePrincipal": ("clientId",),
    "azuread:index/appRoleAssignment:AppRoleAssignment": ("appRoleId", "principalObjectId", "resourceObjectId"),
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": (
        "resourceServicePrincipalObjectId", "servicePrincipalObjectId", "userObjectId"),
    "azuread:index/applicationCertificate:ApplicationCertificate": (
        "applicationId", "value", "type", "encoding", "startDate", "endDate", "keyId"),
}
APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
DELEGATED_GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
APPLICATION_CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# The text the azuread provider (go-azure-sdk) reports when Graph answers 404 for an object that
# has not replicated yet (terraform-provider-azuread issues #1802, #1811), as the Pulumi bridge
# wraps it: "1 error occurred:\n\t* <summary>: <detail>".
REPLICATION_DELAY_ERROR = (
    "1 error occurred:\n\t* Could not create {what}: unexpected status 404 (404 Not Found) with error: "
    "Request_ResourceNotFound: Resource '{object_id}' does not exist or one of its queried "
    "reference-property objects are not present.\n\n"
)


class EmulatedEngineError(Exception):
    """What the real engine or provider would refuse."""


class AccessDenied(EmulatedEngineError):
    """What the tenant refuses the deploying identity (Graph's Authorization_RequestDenied, 403)."""


@dataclass(frozen=True)
class DeployingIdentity:
    """Who runs `pulumi up`: a service principal with Graph application permissions, or a user
    with Entra directory roles (names as in rules.access)."""

    kind: str  # "servicePrincipal" | "user"
    object_id: str = DEPLOYER_OBJECT_ID
    app_permissions: frozenset = frozenset()
    directory_roles: frozenset = frozenset()

    @classmethod
    def service_principal(cls, *permissions: str, object_id: str = DEPLOYER_OBJECT_ID) -> DeployingIdentity:
        return cls("servicePrincipal", object_id, app_permissions=frozenset(permissions))

    @classmethod
    def user(cls, *roles: str, object_id: str = "0d9c3b7e-1a4f-4e8b-9c2d-7f6e5a4b3c21") -> DeployingIdentity:
        return cls("user", object_id, directory_roles=frozenset(roles))

    def check(self, requirement: access.Requirement, owns_target: bool, where: str) -> None:
        """Refuse as the tenant would; with only Application.ReadWrite.OwnedBy, only what it owns."""
        if self.kind == "user":
            if not requirement.allows_user(set(self.directory_roles)):
                raise AccessDenied(
                    f"{where}: Authorization_RequestDenied: Insufficient privileges to complete the operation. "
                    f"The deploying user {self.object_id} cannot {requirement.step}: it needs the directory role "
                    f"{requirement.describe_user()}")
            return
        granted = set(self.app_permissions)
        if not requirement.allows_app(granted):
            raise AccessDenied(
                f"{where}: Authorization_RequestDenied: Insufficient privileges to complete the operation. "
                f"The deploying service principal {self.object_id} cannot {requirement.step}: it needs the "
                f"Microsoft Graph application permission {requirement.describe_app()}")
        only_owned = requirement.as_owner and not requirement.allows_app(granted - {access.OWNED_BY})
        if only_owned and not owns_target:
            raise AccessDenied(
                f"{where}: Authorization_RequestDenied: Insufficient privileges to complete the operation. "
                f"The deploying service principal {self.object_id} holds {access.OWNED_BY} but is not an owner, "
                f"so it cannot {requirement.step}")


# The least-privilege pipeline identity README documents: exactly what rules.access asks for.
PIPELINE = DeployingIdentity.service_principal(*access.least_app_permissions(access.ALL_REQUIREMENTS))


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


def _has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    from pulumi.output import Unknown

    return isinstance(value, Unknown) or value == rpc.UNKNOWN


def placeholder_id(*parts: str) -> str:
    """A GUID derived from `parts` (the URN and a purpose): the same every run, so plans diff."""
    return str(uuid.uuid5(PLACEHOLDER_NAMESPACE, "/".join(parts)))


@dataclass
class _Hook:
    name: str
    kind: str  # "resource" | "error"
    target: str
    token: str


class _Emulator(_mocks.Mocks):
    def __init__(self, prior: Deployment | None, preview: bool, identity: DeployingIdentity,
                 existing_applications: tuple, replication_delays: dict, hook_secrets: str):
        self.prior = {r.urn: r for r in prior.resources.values()} if prior else {}
        self.prior_stack_outputs = dict(prior.outputs) if prior else {}
        self.prior_secret_outputs = set(prior.secret_outputs) if prior else set()
        self.preview = preview
        self.identity = identity
        # The tenant: applications by object ID (what survives a lost state), with their owners.
        self.applications: dict = {k: dict(v) for k, v in (prior.applications if prior else {}).items()}
        for index, display_name in enumerate(existing_applications):
            object_id = placeholder_id("existing-application", str(index))
            self.applications[object_id] = {"displayName": display_name, "owners": set(), "clientId": ""}
        self.replication_delays = dict(replication_delays)  # resource name -> 404s before it replicates
        self.hook_secrets = hook_secrets
        self.hooks: dict[str, _Hook] = {}
        self.records: dict[str, ResourceRecord] = {}
        self.invokes: list = []

    # --- invokes -------------------------------------------------------------------------
    def call(self, args: _mocks.MockCallArgs):
        self.invokes.append((args.token, dict(args.args)))
        if args.token == "azuread:index/getClientConfig:getClientConfig":
            return {"tenantId": TENANT_ID, "clientId": DEPLOYER_CLIENT_ID, "objectId": self.identity.object_id,
                    "id": TENANT_ID}
        if args.token == "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds":
            return {"result": dict(PUBLISHED_APP_IDS), "id": "appIds"}
        if args.token == "azuread:index/getServicePrincipal:getServicePrincipal":
            self.identity.check(access.READ_API_REQUIREMENT, True, "azuread.get_service_principal")
            client_id = args.args.get("clientId")
            if client_id not in MICROSOFT_SERVICE_PRINCIPALS:
                raise EmulatedEngineError(f"service principal for client ID {client_id!r} not found")
            display, object_id, roles, scopes = MICROSOFT_SERVICE_PRINCIPALS[client_id]
            return {
                "id": f"/servicePrincipals/{object_id}", "objectId": object_id, "clientId": client_id,
                "displayName": display, "appRoleIds": dict(roles), "oauth2PermissionScopeIds": dict(scopes),
                "applicationTenantId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            }
        raise EmulatedEngineError(f"the emulator does not know the invoke {args.token}")

    def new_resource(self, args: _mocks.MockResourceArgs):  # used for reads only (StackReference)
        if args.typ == "pulumi:pulumi:StackReference":
            # What the last deployment exported, as the engine's StackReference reads it.
            return args.resource_id, {
                "name": args.inputs.get("name"),
                "outputs": dict(self.prior_stack_outputs),
                "secretOutputNames": sorted(self.prior_secret_outputs),
            }
        raise EmulatedEngineError(f"the emulator cannot read {args.typ}")

    # --- hooks ---------------------------------------------------------------------------
    def register_hook(self, name: str, kind: str, callback) -> None:
        # The engine keeps one registry of hook names for both kinds and refuses a second
        # registration of a name (pulumi/pulumi pkg/resource/deploy/resource_hooks.go,
        # RegisterResourceHook / RegisterErrorHook: "resource hook already registered for name").
        if not name:
            raise EmulatedEngineError("resource hook name cannot be empty")
        if name in self.hooks:
            raise EmulatedEngineError(f"resource hook already registered for name {name!r}")
        self.hooks[name] = _Hook(name, kind, callback.target, callback.token)

    def _hook(self, name: str, kind: str) -> _Hook:
        hook = self.hooks.get(name)
        if hook is None or hook.kind != kind:
            raise EmulatedEngineError(f"{kind} hook not registered for {name}")
        return hook

    def _invoke_callback(self, hook: _Hook, request, response_type):
        """Call the program's callback server as the engine does (CallbacksStub.Invoke over gRPC)."""
        import grpc

        from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc

        with grpc.insecure_channel(hook.target) as channel:
            stub = callback_pb2_grpc.CallbacksStub(channel)
            answer = stub.Invoke(callback_pb2.CallbackInvokeRequest(token=hook.token, request=request.SerializeToString()),
                                 timeout=120)
        return response_type.FromString(answer.response)

    def _marshal(self, values: dict, secret_names) -> Any:
        # The engine marshals hook arguments keeping secrets (pkg/resource/deploy/source_eval.go,
        # KeepSecrets: true), so a secret output arrives wrapped and the SDK turns it into
        # Output.secret (pulumi/runtime/_callbacks.py, outputtify_secrets).
        marked = secret_names if self.hook_secrets == "marked" else ()
        state = {k: (rpc.wrap_rpc_secret(v) if k in marked else v) for k, v in values.items()}
        return _sync_await(rpc.serialize_properties(state, {}))

    def run_after_hooks(self, record: ResourceRecord, kind: str, old: ResourceRecord | None) -> None:
        """after_create / after_update: a failing after-hook fails the deployment (Pulumi CLI 3.238+)."""
        for name in record.hooks.get(kind, []):
            hook = self._hook(name, "resource")
            request = resource_pb2.ResourceHookRequest(
                urn=record.urn, id=record.id, name=record.name, type=record.type,
                new_inputs=self._marshal(record.inputs, record.secret_inputs),
                new_outputs=self._marshal(record.outputs, record.secret_outputs),
            )
            if old is not None:
                request.old_inputs.CopyFrom(self._marshal(old.inputs, old.secret_inputs))
                request.old_outputs.CopyFrom(self._marshal(old.outputs, old.secret_outputs))
            response = self._invoke_callback(hook, request, resource_pb2.ResourceHookResponse)
            record.hook_calls.append((kind, name, response.error))
            if response.error:
                raise EmulatedEngineError(f"{record.name}: {kind} hook {name!r} failed: {response.error}")

    def with_error_hooks(self, name: str, urn: str, typ: str, hooks: dict, inputs: dict, create: Callable):
        """Create, and on failure ask the on_error hooks whether to retry (pkg/resource/deploy/retries.go
        withRetries: failures newest first, at most 100 attempts)."""
        failures: list[str] = []
        while True:
            try:
                return create()
            except AccessDenied:
                raise
            except EmulatedEngineError as exc:
                failures.insert(0, str(exc))
                if len(failures) >= 100 or not hooks.get("on_error"):
                    raise
                retry = False
                for hook_name in hooks["on_error"]:
                    hook = self._hook(hook_name, "error")
                    request = resource_pb2.ErrorHookRequest(
                        urn=urn, name=name, type=typ, failed_operation="create", errors=failures,
                        new_inputs=self._marshal(inputs, ()),
                    )
                    response = self._invoke_callback(hook, request, resource_pb2.ErrorHookResponse)
                    if response.error:
                        raise EmulatedEngineError(f"error hooks execution failed: {response.error}") from exc
                    retry = retry or response.retry
                if not retry:
                    raise

    # --- resources -----------------------------------------------------------------------
    def register(self, urn, typ, name, raw_inputs, custom, parent, secret_names, hooks, dependencies=()) -> ResourceRecord:
        inputs, secret_inputs = {}, []
        for k, v in raw_inputs.items():
            inputs[k], s = _unwrap(v)
            if s:
                secret_inputs.append(k)
        prior = self.prior.get(urn)
        if not custom:
            record = ResourceRecord(urn, typ, name, "", inputs, {}, "same" if prior else "create", False, parent)
        elif typ.startswith("pulumi-python:dynamic"):
            record = self._dynamic(urn, typ, name, inputs, prior)
        elif typ.startswith("azuread:"):
            record = self._azuread(urn, typ, name, inputs, prior, hooks)
        else:
            raise EmulatedEngineError(f"unexpected resource type {typ}")
        record.parent = parent
        record.secret_inputs = tuple(sorted(secret_inputs))
        record.secret_outputs = tuple(sorted(set(secret_names) | set(secret_inputs)))
        record.hooks = hooks
        record.dependencies = dependencies
        missing = [d for d in dependencies if d not in self.records]
        if missing:  # the engine runs a step only after every step it depends on
            raise EmulatedEngineError(f"{name} registered before what it depends on: {missing}")
        self.records[urn] = record
        if not self.preview and record.operation in ("create", "replace"):
            self.run_after_hooks(record, "after_create", None)
        elif not self.preview and record.operation == "update":
            self.run_after_hooks(record, "after_update", prior)
        return record

    def _dynamic(self, urn, typ, name, inputs, prior) -> ResourceRecord:
        import dill

        provider = dill.loads(base64.b64decode(inputs["__provider"]))
        checked = provider.check(dict(prior.inputs) if prior else {}, dict(inputs))
        if checked.failures:
            raise EmulatedEngineError(f"{name}: " + "; ".join(f"{f.property}: {f.reason}" for f in checked.failures))
        news = dict(checked.inputs)
        if prior is None:
            if self.preview:
                return ResourceRecord(urn, typ, name, "", news, {}, "create")
            created = provider.create(news)
            return ResourceRecord(urn, typ, name, created.id, news, dict(created.outs or {}), "create")
        olds = dict(prior.outputs)
        diff = provider.diff(prior.id, olds, news)
        if diff.changes is None:
            raise EmulatedEngineError(f"{name}: the provider left the diff to the engine's fallback")
        if not diff.changes:
            return ResourceRecord(urn, typ, name, prior.id, news, olds, "same")
        if diff.replaces:
            if self.preview:
                return ResourceRecord(urn, typ, name, "", news, {}, "replace")
            created = provider.create(news)
            return ResourceRecord(urn, typ, name, created.id, news, dict(created.outs or {}), "replace")
        if self.preview:
            return ResourceRecord(urn, typ, name, prior.id, news, {}, "update")
        outs = dict(provider.update(prior.id, olds, news).outs or {})
        missing = sorted(set(k for k in olds if k != "__provider") - set(outs))
        if missing:
            raise EmulatedEngineError(f"{name}: update dropped outputs {missing}")
        return ResourceRecord(urn, typ, name, prior.id, news, outs, "update")

    def _azuread(self, urn, typ, name, inputs, prior, hooks) -> ResourceRecord:
        if prior is not None:
            force_new = FORCE_NEW.get(typ, ())
            if any(prior.inputs.get(k) != inputs.get(k) for k in force_new):
                operation = "replace"
            elif prior.inputs != inputs:
                operation = "update"
            else:
                return ResourceRecord(urn, typ, name, prior.id, inputs, dict(prior.outputs), "same")
        else:
            operation = "create"
        if self.preview:  # computed values stay unknown until the real create
            if typ == APPLICATION and not _has_unknown(inputs.get("displayName")):
                # The provider's CustomizeDiff runs the duplicate-name check at plan time too
                # (terraform-provider-azuread, application_resource.go applicationDiffSuppress /
                # CustomizeDiff with prevent_duplicate_names), so preview already fails.
                self._check_duplicate_name(inputs, exclude=prior.outputs.get("objectId") if prior else None)
            known = {k: v for k, v in inputs.items() if not _has_unknown(v)}
            return ResourceRecord(urn, typ, name, prior.id if prior else "", inputs, known, operation)
        if operation == "update":
            self._authorize(typ, name, inputs, prior)
            if typ == APPLICATION:
                self._update_application(prior.outputs["objectId"], inputs)
            return ResourceRecord(urn, typ, name, prior.id, inputs, {**prior.outputs, **inputs}, "update")
        self._authorize(typ, name, inputs, None)
        salt = prior.id if prior else ""  # a replacement is a new object with a new ID
        id_, computed = self.with_error_hooks(name, urn, typ, hooks, inputs,
                                              lambda: self._azuread_create(urn, typ, name, inputs, salt))
        return ResourceRecord(urn, typ, name, id_, inputs, {**inputs, **computed}, operation)

    # --- the tenant ----------------------------------------------------------------------
    def _owns_application(self, object_id: str | None) -> bool:
        app = self.applications.get(object_id or "")
        return app is not None and self.identity.object_id in app["owners"]

    def _application_by_client_id(self, client_id: str) -> str | None:
        return next((k for k, v in self.applications.items() if v["clientId"] == client_id), None)

    def _authorize(self, typ: str, name: str, inputs: dict, prior: ResourceRecord | None) -> None:
        check = self.identity.check
        if typ in (APPLICATION, SERVICE_PRINCIPAL):
            others = {o.lower() for o in inputs.get("owners") or []} - {self.identity.object_id}
            if others and not _has_unknown(inputs.get("owners")):
                # Adding an owner other than the caller: Learn, application-post-owners (rules.access).
                check(access.ADD_OTHER_OWNER, True, name)
        if typ == APPLICATION:
            # Creating: the provider makes the caller an owner of the new app in the same request.
            check(access.APPLICATION_REQUIREMENT, prior is None or self._owns_application(prior.outputs.get("objectId")), name)
        elif typ == SERVICE_PRINCIPAL:
            # With OwnedBy the caller must own the app (and the service principal) - provider docs.
            check(access.SERVICE_PRINCIPAL_REQUIREMENT, self._owns_application(self._application_by_client_id(inputs.get("clientId", ""))), name)
        elif typ == APPLICATION_CERTIFICATE:
            check(access.CERTIFICATE_REQUIREMENT, self._owns_application(inputs.get("applicationId", "").rpartition("/")[2]), name)
        elif typ == APP_ROLE_ASSIGNMENT:
            graph_object_id = MICROSOFT_SERVICE_PRINCIPALS[GRAPH_APP_ID][1]
            requirement = (access.GRAPH_APP_ROLE_CONSENT_REQUIREMENT if inputs.get("resourceObjectId") == graph_object_id
                           else access.OTHER_APP_ROLE_CONSENT_REQUIREMENT)
            check(requirement, True, name)
        elif typ == DELEGATED_GRANT:
            check(access.DELEGATED_CONSENT_REQUIREMENT, True, name)

    def _owners_after_write(self, inputs: dict) -> set:
        # terraform-provider-azuread v3, applicationResourceCreate / servicePrincipalResourceCreate:
        # the caller is put first among the owners of the create request and removed afterwards
        # unless `owners` lists it; an update sets exactly `owners` (the caller gets no exception).
        return {o.lower() for o in inputs.get("owners") or []}

    def _update_application(self, object_id: str, inputs: dict) -> None:
        app = self.applications[object_id]
        self._check_duplicate_name(inputs, exclude=object_id)
        app.update(displayName=inputs.get("displayName"), owners=self._owners_after_write(inputs))

    def _check_duplicate_name(self, inputs: dict, exclude: str | None) -> None:
        # prevent_duplicate_names: at create and every update the provider lists applications by
        # display name and refuses any other with exactly that name (applicationFindByName;
        # message from internal/helpers/tf/errors.go ImportAsDuplicateDiag).
        if not inputs.get("preventDuplicateNames"):
            return
        name = inputs.get("displayName")
        for object_id, app in self.applications.items():
            if object_id != exclude and app["displayName"] == name:
                raise EmulatedEngineError(
                    f'An existing "azuread_application" with name "{name}" (ID: "{object_id}") was found and '
                    "`prevent_duplicate_names` was specified")

    def _replication_delay(self, name: str, what: str, object_id: str) -> None:
        if self.replication_delays.get(name, 0) > 0:
            self.replication_delays[name] -= 1
            raise EmulatedEngineError(REPLICATION_DELAY_ERROR.format(what=what, object_id=object_id))

    def _azuread_create(self, urn, typ, name, inputs, salt) -> tuple[str, dict]:
        object_id = placeholder_id(urn, "objectId", salt)
        if typ == APPLICATION:
            self._check_duplicate_name(inputs, exclude=None)
            client_id = placeholder_id(urn, "clientId", salt)
            self.applications[object_id] = {"displayName": inputs.get("displayName"), "clientId": client_id,
                                             "owners": self._owners_after_write(inputs)}
            return f"/applications/{object_id}", {"objectId": object_id, "clientId": client_id,
                                                  "publisherDomain": "example.onmicrosoft.com"}
        if typ == SERVICE_PRINCIPAL:
            self._replication_delay(name, "service principal", inputs.get("clientId", ""))
            return f"/servicePrincipals/{object_id}", {"objectId": object_id, "appRoleIds": {},
                                                       "oauth2PermissionScopeIds": {}, "type": "Application"}
        if typ == APP_ROLE_ASSIGNMENT:
            if not inputs.get("appRoleId"):
                raise EmulatedEngineError("AppRoleAssignment without appRoleId")
            self._replication_delay(name, "app role assignment", inputs.get("principalObjectId", ""))
            return (f"/servicePrincipals/{inputs['resourceObjectId']}/appRoleAssignedTo/{placeholder_id(urn, 'assignment', salt)}",
                    {"principalType": "ServicePrincipal"})
        if typ == "azuread:index/group:Group":
            return f"/groups/{object_id}", {"objectId": object_id}
        if typ == DELEGATED_GRANT:
            self._replication_delay(name, "delegated permission grant", inputs.get("servicePrincipalObjectId", ""))
            # The provider's ID: /oauth2PermissionGrants/{id} (parse.NewOAuth2PermissionGrantID).
            grant_id = base64.urlsafe_b64encode(uuid.UUID(object_id).bytes).decode().rstrip("=")
            return f"/oauth2PermissionGrants/{grant_id}", {}
        if typ == APPLICATION_CERTIFICATE:
            return self._application_certificate(urn, name, inputs, salt)
        raise EmulatedEngineError(f"the emulator does not know {typ}")

    def _application_certificate(self, urn, name, inputs, salt) -> tuple[str, dict]:
        from ..rules.certificate import inspect_certificate, parse_rfc3339

        application_id = inputs.get("applicationId", "")
        if not application_id.startswith("/applications/"):
            raise EmulatedEngineError(f"applicationId {application_id!r} is not an /applications/<objectId> ID")
        if inputs.get("type") != "AsymmetricX509Cert" or inputs.get("encoding") != "pem":
            raise EmulatedEngineError("expected type AsymmetricX509Cert with pem encoding")
        if inputs.get("endDateRelative"):
            raise EmulatedEngineError("end_date_relative depends on 'now'")
        object_id = application_id.rpartition("/")[2]
        self._replication_delay(name, "certificate credential", object_id)
        info = inspect_certificate(inputs["value"])
        end = parse_rfc3339(inputs["endDate"])
        start = parse_rfc3339(inputs["startDate"])
        # Graph: "Key credential end date is invalid" when it is past the certificate's expiry.
        if end > info.not_after or start < info.not_before:
            raise EmulatedEngineError("Entra refuses key credential dates outside the certificate's validity")
        key_id = placeholder_id(urn, "keyId", info.thumbprint, salt)
        # The provider's ID: "{ObjectId}/certificate/{KeyId}", no /applications/ prefix
        # (application_certificate_resource.go, parse.NewCredentialID).
        return f"{object_id}/certificate/{key_id}", {"keyId": key_id}


class _Monitor(_mocks.MockMonitor):
    def __init__(self, emulator: _Emulator):
        super().__init__(emulator)
        self.emulator = emulator

    def RegisterResourceHook(self, request):
        self.emulator.register_hook(request.name, "resource", request.callback)
        return super().RegisterResourceHook(request)

    def RegisterErrorHook(self, request):
        self.emulator.register_hook(request.name, "error", request.callback)
        return super().RegisterErrorHook(request)

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)  # secrets stay wrapped
        hooks = {
            kind: list(getattr(request.hooks, kind))
            for kind in ("after_create", "after_update", "on_error")
            if request.HasField("hooks") and list(getattr(request.hooks, kind))
        }
        record = self.emulator.register(
            urn, request.type, request.name, inputs, bool(request.custom), request.parent,
            list(request.additionalSecretOutputs), hooks, tuple(request.dependencies),
        )
        state = {k: (rpc.wrap_rpc_secret(v) if k in record.secret_outputs else v) for k, v in record.outputs.items()}
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, record.id, record.outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=record.id, object=obj_proto)


def evaluate(
    program: Callable[[], None] | str = "__main__.py",
    *,
    config: dict | None = None,
    stack: str = "prod",
    prior: Deployment | None = None,
    preview: bool = False,
    project: str = PROJECT,
    identity: DeployingIdentity = PIPELINE,
    existing_applications: tuple = (),
    replication_delays: dict | None = None,
    hook_secrets: str = "marked",
    secret_keys: tuple = (),
) -> Deployment:
    """Run the program once against the emulated engine and return what it declared.

    `identity` deploys; `existing_applications` are display names already in the tenant (a lost
    state); `replication_delays` maps resource names to how many creates Entra answers with
    "not found" first; `hook_secrets` is "marked" (secret outputs reach hooks as secrets) or
    "plain" (as older engines passed them).
    """
    import logging

    warnings: list = []

    class _Capture(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logger = logging.getLogger(f"mytimetable-o365.emulation.{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(_Capture())

    _ensure_event_loop()  # a caller's asyncio.run() may have closed and unset the last one
    emulator = _Emulator(prior, preview, identity, tuple(existing_applications), replication_delays or {}, hook_secrets)
    from pulumi.runtime.settings import ROOT, SETTINGS

    ROOT.set(None)  # a fresh root stack per evaluation, as each `pulumi up` has
    SETTINGS.rpc_manager.clear()  # and nothing left over from an evaluation that failed
    SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config({f"{k}" if ":" in k else f"{project}:{k}": _config_text(v) for k, v in (config or {}).items()},
                                  [k if ":" in k else f"{project}:{k}" for k in secret_keys])
    _mocks.set_mocks(emulator, project=project, stack=stack, preview=preview, logger=logger, monitor=_Monitor(emulator))

    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.settings import get_root_resource

    def run():
        if callable(program):
            program()
        else:
            runpy.run_path(program, run_name="__main__")

    try:
        _sync_await(run_pulumi_func(run))
    except Exception as exc:
        exc.declared_resources = list(emulator.records.values())  # type: ignore[attr-defined]
        raise
    outputs, secret = {}, set()
    root = get_root_resource()
    for name, value in (root.outputs if root is not None else {}).items():  # type: ignore[attr-defined]
        out = pulumi.Output.from_input(value)
        outputs[name] = _sync_await(out.future())
        if _sync_await(out.is_secret()):
            secret.add(name)
    deleted = [r for urn, r in emulator.prior.items() if urn not in emulator.records]
    return Deployment(dict(emulator.records), outputs, frozenset(secret), deleted, emulator.invokes, warnings,
                      emulator.applications)


def _config_text(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value)
