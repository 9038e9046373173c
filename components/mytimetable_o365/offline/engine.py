"""An engine emulator: runs the real program under Pulumi's mock monitor, with mocks that act
like the Pulumi engine and the azuread provider.

- azuread resources get realistic identities: `Application.id` is `/applications/<objectId>`
  and differs from `client_id` and `object_id`; a service principal's id is
  `/servicePrincipals/<objectId>`; certificates are checked as Entra checks them.
- invokes answer getClientConfig, getApplicationPublishedAppIds and getServicePrincipal, the
  latter with Microsoft's real app-role and scope ID maps for Graph and Exchange Online.
- dynamic providers are executed: `__provider` is deserialised and check/create run, or
  diff/update against the prior state that a previous evaluation left (`prior=`).
- outputs named in `additional_secret_outputs` come back secret, as the engine returns them.
- resources that an evaluation no longer declares are reported as deletes.

Used by the tests and by `python -m components plan`; no Pulumi CLI, no cloud.
"""

from __future__ import annotations

import base64
import runpy
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

PROJECT = "mytimetable-o365"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEPLOYER_OBJECT_ID = "5f1a5c30-3d6c-4b5b-9a44-6a1b2f0c9e11"

# Microsoft's service principals as the tenant shows them (subset of their maps, real IDs).
# Sources: Microsoft Graph permissions reference; Exchange Online's appRoles as listed in
# CISA ScubaGear's RiskyPermissions.json. Graph's own application permission
# "Calendars.ReadWrite.All" exists too (work hours and locations, not mailbox calendars);
# its real GUID could not be looked up offline, so the value here is a stand-in marked as
# such - it only has to differ from Calendars.ReadWrite's so that choosing it is caught.
GRAPH_CALENDARS_READWRITE_ALL_STANDIN = "0c5a1e7b-57a2-4d1e-8c5b-00000000a11d"  # stand-in, see above
GRAPH_APP_ROLES = {
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.ReadBasic.All": "8ba4a692-bc31-4128-9094-475872af8a53",
    "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Calendars.ReadWrite.All": GRAPH_CALENDARS_READWRITE_ALL_STANDIN,
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
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
    "EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
}
MICROSOFT_SERVICE_PRINCIPALS = {
    "00000003-0000-0000-c000-000000000000": ("Microsoft Graph", "2b3c6e1a-0f0e-4c59-9d52-5e0b4bb6a1f1", GRAPH_APP_ROLES, GRAPH_SCOPES),
    "00000002-0000-0ff1-ce00-000000000000": ("Office 365 Exchange Online", "8c1a4d7e-25f3-4b8e-bb61-0f6b3c2de7a9", EXCHANGE_APP_ROLES, EXCHANGE_SCOPES),
}
PUBLISHED_APP_IDS = {"MicrosoftGraph": "00000003-0000-0000-c000-000000000000", "Office365ExchangeOnline": "00000002-0000-0ff1-ce00-000000000000"}

# Inputs whose change makes the azuread provider replace the resource (its schema's ForceNew).
FORCE_NEW = {
    "azuread:index/servicePrincipal:ServicePrincipal": ("clientId",),
    "azuread:index/appRoleAssignment:AppRoleAssignment": ("appRoleId", "principalObjectId", "resourceObjectId"),
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": (
        "resourceServicePrincipalObjectId", "servicePrincipalObjectId", "userObjectId"),
    "azuread:index/applicationCertificate:ApplicationCertificate": (
        "applicationId", "value", "type", "encoding", "startDate", "endDate", "keyId"),
}


class EmulatedEngineError(Exception):
    """What the real engine or provider would refuse."""


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


@dataclass
class Deployment:
    resources: dict  # urn -> ResourceRecord, in registration order
    outputs: dict
    secret_outputs: frozenset
    deleted: list
    invokes: list
    warnings: list

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


class _Emulator(_mocks.Mocks):
    def __init__(self, prior: Optional[Deployment], preview: bool):
        self.prior = {r.urn: r for r in prior.resources.values()} if prior else {}
        self.prior_stack_outputs = dict(prior.outputs) if prior else {}
        self.prior_secret_outputs = set(prior.secret_outputs) if prior else set()
        self.preview = preview
        self.records: dict[str, ResourceRecord] = {}
        self.invokes: list = []

    # --- invokes -------------------------------------------------------------------------
    def call(self, args: _mocks.MockCallArgs):
        self.invokes.append((args.token, dict(args.args)))
        if args.token == "azuread:index/getClientConfig:getClientConfig":
            return {"tenantId": TENANT_ID, "clientId": DEPLOYER_CLIENT_ID, "objectId": DEPLOYER_OBJECT_ID, "id": TENANT_ID}
        if args.token == "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds":
            return {"result": dict(PUBLISHED_APP_IDS), "id": "appIds"}
        if args.token == "azuread:index/getServicePrincipal:getServicePrincipal":
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

    # --- resources -----------------------------------------------------------------------
    def register(self, urn, typ, name, raw_inputs, custom, parent, secret_names, hooks) -> ResourceRecord:
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
            record = self._azuread(urn, typ, name, inputs, prior)
        else:
            raise EmulatedEngineError(f"unexpected resource type {typ}")
        record.parent = parent
        record.secret_inputs = tuple(sorted(secret_inputs))
        record.secret_outputs = tuple(sorted(set(secret_names) | set(secret_inputs)))
        record.hooks = hooks
        self.records[urn] = record
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

    def _azuread(self, urn, typ, name, inputs, prior) -> ResourceRecord:
        if prior is not None:
            force_new = FORCE_NEW.get(typ, ())
            if any(prior.inputs.get(k) != inputs.get(k) for k in force_new):
                operation = "replace"
            elif prior.inputs != inputs:
                operation = "update"
            else:
                return ResourceRecord(urn, typ, name, prior.id, inputs, dict(prior.outputs), "same")
            if operation == "update":
                outputs = {**prior.outputs, **inputs}
                return ResourceRecord(urn, typ, name, prior.id, inputs, outputs, "update")
        else:
            operation = "create"
        if self.preview:  # computed values stay unknown until the real create
            known = {k: v for k, v in inputs.items() if not _has_unknown(v)}
            return ResourceRecord(urn, typ, name, prior.id if prior else "", inputs, known, operation)
        id_, computed = self._azuread_create(typ, inputs)
        return ResourceRecord(urn, typ, name, id_, inputs, {**inputs, **computed}, operation)

    def _azuread_create(self, typ, inputs) -> tuple[str, dict]:
        object_id = str(uuid.uuid4())
        if typ == "azuread:index/application:Application":
            client_id = str(uuid.uuid4())
            return f"/applications/{object_id}", {"objectId": object_id, "clientId": client_id, "publisherDomain": "example.onmicrosoft.com"}
        if typ == "azuread:index/servicePrincipal:ServicePrincipal":
            return f"/servicePrincipals/{object_id}", {"objectId": object_id, "appRoleIds": {}, "oauth2PermissionScopeIds": {}, "type": "Application"}
        if typ == "azuread:index/appRoleAssignment:AppRoleAssignment":
            if not inputs.get("appRoleId"):
                raise EmulatedEngineError("AppRoleAssignment without appRoleId")
            return f"/servicePrincipals/{inputs['resourceObjectId']}/appRoleAssignedTo/{uuid.uuid4()}", {"principalType": "ServicePrincipal"}
        if typ == "azuread:index/group:Group":
            return f"/groups/{object_id}", {"objectId": object_id}
        if typ == "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant":
            return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="), {}
        if typ == "azuread:index/applicationCertificate:ApplicationCertificate":
            return self._application_certificate(inputs)
        raise EmulatedEngineError(f"the emulator does not know {typ}")

    def _application_certificate(self, inputs) -> tuple[str, dict]:
        from ..rules.certificate import inspect_certificate, parse_rfc3339

        application_id = inputs.get("applicationId", "")
        if not application_id.startswith("/applications/"):
            raise EmulatedEngineError(f"applicationId {application_id!r} is not an /applications/<objectId> ID")
        if inputs.get("type") != "AsymmetricX509Cert" or inputs.get("encoding") != "pem":
            raise EmulatedEngineError("expected type AsymmetricX509Cert with pem encoding")
        if inputs.get("endDateRelative"):
            raise EmulatedEngineError("end_date_relative depends on 'now'")
        info = inspect_certificate(inputs["value"])
        end = parse_rfc3339(inputs["endDate"])
        start = parse_rfc3339(inputs["startDate"])
        # Graph: "Key credential end date is invalid" when it is past the certificate's expiry.
        if end > info.not_after or start < info.not_before:
            raise EmulatedEngineError("Entra refuses key credential dates outside the certificate's validity")
        key_id = str(uuid.uuid4())
        return f"{application_id}/certificate/{key_id}", {"keyId": key_id}


class _Monitor(_mocks.MockMonitor):
    def __init__(self, emulator: _Emulator):
        super().__init__(emulator)
        self.emulator = emulator

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
            list(request.additionalSecretOutputs), hooks,
        )
        state = {k: (rpc.wrap_rpc_secret(v) if k in record.secret_outputs else v) for k, v in record.outputs.items()}
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, record.id, record.outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=record.id, object=obj_proto)


def evaluate(
    program: Callable[[], None] | str = "__main__.py",
    *,
    config: Optional[dict] = None,
    stack: str = "prod",
    prior: Optional[Deployment] = None,
    preview: bool = False,
    project: str = PROJECT,
) -> Deployment:
    """Run the program once against the emulated engine and return what it declared."""
    import logging

    warnings: list = []

    class _Capture(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logger = logging.getLogger(f"mytimetable-o365.emulation.{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(_Capture())

    emulator = _Emulator(prior, preview)
    from pulumi.runtime.settings import ROOT, SETTINGS

    ROOT.set(None)  # a fresh root stack per evaluation, as each `pulumi up` has
    SETTINGS.rpc_manager.clear()  # and nothing left over from an evaluation that failed
    SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config({f"{k}" if ":" in k else f"{project}:{k}": _config_text(v) for k, v in (config or {}).items()})
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
    for name, value in get_root_resource().outputs.items():
        out = pulumi.Output.from_input(value)
        outputs[name] = _sync_await(out.future())
        if _sync_await(out.is_secret()):
            secret.add(name)
    deleted = [r for urn, r in emulator.prior.items() if urn not in emulator.records]
    return Deployment(dict(emulator.records), outputs, frozenset(secret), deleted, emulator.invokes, warnings)


def _config_text(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value)
